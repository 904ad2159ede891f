"""A hostile REAPI server for tests/e2e/reapi.rs: it answers kiln's client and worker
the way an attacker who runs (or took over) the server would. Run with the python of
the BuildGrid venv (it has grpcio and BuildGrid's generated protos):

    python hostile.py --port PORT --scenario NAME --log EVENTS.jsonl

Scenarios:
  escapes   a cached result whose blob reads fail with terminal escapes in the message
  trickle   a cached test result claiming a 100 GiB log, sent 1 KiB a second
  bots      a lease while the session's expire_time is -2**63, then instant empty polls
  fanout    a lease whose input root names `runfiles` twice, then one naming one huge
            directory 30 times, then one with an 8 MiB directory name over 250 files
  many      a lease of 100,000 distinct small input files
Every call is one JSON line in the log: {"call": ..., ...}.
"""

import argparse
import hashlib
import json
import threading
import time
from concurrent import futures

import grpc
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2 as re
from buildgrid._protos.build.bazel.remote.execution.v2 import remote_execution_pb2_grpc as re_grpc
from buildgrid._protos.google.bytestream import bytestream_pb2 as bs
from buildgrid._protos.google.bytestream import bytestream_pb2_grpc as bs_grpc
from buildgrid._protos.google.devtools.remoteworkers.v1test2 import bots_pb2
from buildgrid._protos.google.devtools.remoteworkers.v1test2 import bots_pb2_grpc
from buildgrid._protos.google.rpc import status_pb2

LOCK = threading.Lock()
ARGS = None
BLOBS = {}


def log(call, **kw):
    with LOCK, open(ARGS.log, "a") as f:
        f.write(json.dumps(dict(call=call, t=time.time(), **kw)) + "\n")


def digest(data):
    return re.Digest(hash=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def put(msg_or_bytes):
    data = msg_or_bytes if isinstance(msg_or_bytes, bytes) else msg_or_bytes.SerializeToString()
    d = digest(data)
    BLOBS[d.hash] = data
    return d


class Caps(re_grpc.CapabilitiesServicer):
    def GetCapabilities(self, request, context):
        log("GetCapabilities")
        return re.ServerCapabilities(cache_capabilities=re.CacheCapabilities(
            digest_functions=[re.DigestFunction.SHA256], max_batch_total_size_bytes=4 << 20,
            action_cache_update_capabilities=re.ActionCacheUpdateCapabilities(update_enabled=True)))


class Cache(re_grpc.ActionCacheServicer):
    def GetActionResult(self, request, context):
        log("GetActionResult")
        if ARGS.scenario == "escapes":
            return re.ActionResult(output_files=[re.OutputFile(path="out/stamp.txt", digest=digest(b"EVIL\n"))])
        if ARGS.scenario == "trickle":
            return re.ActionResult(stdout_digest=re.Digest(hash="ab" * 32, size_bytes=100 << 30))
        context.abort(grpc.StatusCode.NOT_FOUND, "no")

    def UpdateActionResult(self, request, context):
        log("UpdateActionResult")
        return request.action_result


class Cas(re_grpc.ContentAddressableStorageServicer):
    def FindMissingBlobs(self, request, context):
        return re.FindMissingBlobsResponse(missing_blob_digests=[d for d in request.blob_digests
                                                                 if d.hash not in BLOBS])

    def BatchUpdateBlobs(self, request, context):
        out = re.BatchUpdateBlobsResponse()
        for r in request.requests:
            BLOBS[r.digest.hash] = r.data
            out.responses.add(digest=r.digest, status=status_pb2.Status(code=0))
        return out

    def BatchReadBlobs(self, request, context):
        log("BatchReadBlobs", n=len(request.digests))
        out = re.BatchReadBlobsResponse()
        for d in request.digests:
            if ARGS.scenario == "escapes":
                out.responses.add(digest=d, status=status_pb2.Status(
                    code=5, message="\x1b]0;owned\x07\x1b[2J\x1b[31mgone \u202edessap\u202c\u2066\u200b\u061c\u009b"))
            elif d.hash in BLOBS:
                out.responses.add(digest=d, data=BLOBS[d.hash], status=status_pb2.Status(code=0))
            else:
                out.responses.add(digest=d, status=status_pb2.Status(code=5, message="not here"))
        return out


class ByteStream(bs_grpc.ByteStreamServicer):
    def Read(self, request, context):
        log("Read", resource=request.resource_name)
        for _ in range(600):
            if not context.is_active():
                log("ReadCut")
                return
            yield bs.ReadResponse(data=b"k" * 1024)
            time.sleep(1)

    def Write(self, request_iterator, context):
        n = 0
        for r in request_iterator:
            n += len(r.data)
        return bs.WriteResponse(committed_size=n)


def action(root_dir, argv):
    """An action for kiln's sandbox, its Command and input root put in the CAS."""
    platform = re.Platform(properties=[re.Platform.Property(name="kiln-sandbox", value="linux-v1")])
    cmd = re.Command(arguments=argv, environment_variables=[re.Command.EnvironmentVariable(
        name="PATH", value="/usr/bin:/bin")], platform=platform)
    return re.Action(command_digest=put(cmd), input_root_digest=put(root_dir), platform=platform)


def lease(lease_id, act):
    l = bots_pb2.Lease(id=lease_id, state=bots_pb2.LeaseState.ACTIVE)
    l.payload.Pack(act)
    return l


class Bots(bots_pb2_grpc.BotsServicer):
    def __init__(self):
        self.queue = []
        self.handed = set()
        runfiles = re.Directory(directories=[re.DirectoryNode(name="_main", digest=put(re.Directory()))])
        ok_root = re.Directory(directories=[re.DirectoryNode(name="runfiles", digest=put(runfiles))])
        if ARGS.scenario == "bots":
            self.queue.append(lease("sleeper", action(ok_root, ["/bin/sh", "-c", "sleep 3; echo done"])))
        if ARGS.scenario == "fanout":
            twice = re.Directory(directories=[re.DirectoryNode(name="runfiles", digest=put(runfiles)),
                                              re.DirectoryNode(name="runfiles", digest=put(runfiles))])
            self.queue.append(lease("twice", action(twice, ["/bin/true"])))
            big = re.Directory(files=[re.FileNode(name=f"f{i:06d}", digest=digest(b"x"))
                                      for i in range(300_000)])
            big_d = put(big)
            fan = re.Directory(directories=[re.DirectoryNode(name=f"d{i:02d}", digest=big_d) for i in range(30)])
            fan_root = re.Directory(directories=[re.DirectoryNode(name="runfiles", digest=put(fan))])
            self.queue.append(lease("fanout", action(fan_root, ["/bin/true"])))
            files = re.Directory(files=[re.FileNode(name=f"f{i}", digest=put(b"%d" % i)) for i in range(250)])
            long = re.Directory(directories=[re.DirectoryNode(name="A" * (8 << 20), digest=put(files))])
            long_root = re.Directory(directories=[re.DirectoryNode(name="runfiles", digest=put(long))])
            self.queue.append(lease("longname", action(long_root, ["/bin/true"])))
        if ARGS.scenario == "many":
            files = re.Directory(files=[re.FileNode(name=f"f{i:06d}", digest=put(b"%06d" % i))
                                        for i in range(100_000)])
            main = re.Directory(directories=[re.DirectoryNode(name="_main", digest=put(files))])
            many_root = re.Directory(directories=[re.DirectoryNode(name="runfiles", digest=put(main))])
            self.queue.append(lease("many", action(many_root, ["/bin/true"])))

    def answer(self, session, call):
        for l in session.leases:
            if l.state == bots_pb2.LeaseState.COMPLETED:
                log("completed", lease=l.id, code=l.status.code, message=l.status.message)
        out = bots_pb2.BotSession()
        out.CopyFrom(session)
        if not out.name:
            out.name = "/hostile-" + session.bot_id
        # A lease stays in the session while the bot runs it.
        keep = [l for l in session.leases if l.state == bots_pb2.LeaseState.ACTIVE]
        del out.leases[:]
        out.leases.extend(keep)
        if not keep and self.queue:
            out.leases.append(self.queue.pop(0))
        out.expire_time.seconds = -(2 ** 63) if ARGS.scenario == "bots" else int(time.time()) + 60
        log(call, leases=[l.id for l in out.leases])
        return out

    def CreateBotSession(self, request, context):
        return self.answer(request.bot_session, "CreateBotSession")

    def UpdateBotSession(self, request, context):
        # Idle polls are answered at once, with nothing.
        return self.answer(request.bot_session, "UpdateBotSession")


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--log", required=True)
    ARGS = ap.parse_args()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16),
                         options=[("grpc.max_receive_message_length", 64 << 20),
                                  ("grpc.max_send_message_length", 64 << 20)])
    re_grpc.add_CapabilitiesServicer_to_server(Caps(), server)
    re_grpc.add_ActionCacheServicer_to_server(Cache(), server)
    re_grpc.add_ContentAddressableStorageServicer_to_server(Cas(), server)
    bs_grpc.add_ByteStreamServicer_to_server(ByteStream(), server)
    bots_pb2_grpc.add_BotsServicer_to_server(Bots(), server)
    server.add_insecure_port(f"127.0.0.1:{ARGS.port}")
    server.start()
    log("listening")
    server.wait_for_termination()


if __name__ == "__main__":
    main()
