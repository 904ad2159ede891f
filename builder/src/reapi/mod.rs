//! A remote cache (and executor) speaking the Remote Execution API v2 over gRPC
//! (`[cache] url = "grpc://host:port"`, `grpcs://` with TLS, `[cache] instance`): the
//! action cache and the CAS of any REAPI server (BuildGrid, Buildbarn, bazel-remote,
//! BuildBuddy, NativeLink) with the sha256 digest function. kiln's actions are real
//! REAPI `Action`s (see `shape.rs`), so the server can cache and execute them and
//! two workspaces share their hits.
//!
//! The server is the authority here: it decides who may read and write, and kiln
//! signs nothing (docs/security.md). Blobs are still checked against their digest on
//! the way in. As with a store cache, a server that is down or slow costs one warning
//! and a bounded time, never a failed build.

pub mod bots;
pub mod shape;
pub mod worker;

use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

pub use bazel_remote_apis::build::bazel::remote::execution::v2 as re;
use bazel_remote_apis::google::bytestream as bs;
pub use re::ActionResult;
use re::action_cache_client::ActionCacheClient;
use re::capabilities_client::CapabilitiesClient;
use re::content_addressable_storage_client::ContentAddressableStorageClient;
use release::Digest;
use tonic::transport::{Channel, Endpoint};

use crate::cache::{Cache, HashingWriter};

pub use shape::Shape;

/// How long one small call may take, and a connection.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A streamed blob may take this long per MiB on top of CALL_TIMEOUT (1 MiB/s).
const PER_MIB: Duration = Duration::from_secs(1);
/// ByteStream chunks.
const CHUNK: usize = 1 << 20;
/// What a batch call may carry when the server names no limit (gRPC's default
/// message size, less room for the envelope).
const DEFAULT_BATCH: u64 = 4 << 20;
/// The most blobs one batch call asks for (about 1 MB of digests).
const BATCH_BLOBS: usize = 10_000;
/// Room left in a batch for the request's own fields.
const BATCH_OVERHEAD: u64 = 64 << 10;
/// The largest message kiln accepts from a server.
const MAX_MESSAGE: usize = 64 << 20;

/// A REAPI server and instance.
pub struct Client {
    url: String,
    instance: String,
    rt: tokio::runtime::Runtime,
    channel: Channel,
    caps: OnceLock<Result<Caps, String>>,
}

/// What the server said it can do, as kiln uses it.
#[derive(Clone, Debug)]
pub struct Caps {
    /// The most bytes of blobs one batch call may carry.
    pub batch: u64,
    pub update_action_cache: bool,
}

/// A failed call, in words fit for a warning or an error.
pub type CallError = String;

/// A server's words, fit to print (`plumbing::style::printable`), at most 300
/// characters.
pub fn clean(msg: &str) -> String {
    plumbing::style::printable_text(msg.trim(), 300)
}

fn status_text(s: &tonic::Status) -> String {
    let msg = clean(s.message());
    if msg.is_empty() {
        format!("{:?}", s.code())
    } else {
        format!("{:?}: {msg}", s.code())
    }
}

pub fn to_re(d: &Digest, size: u64) -> re::Digest {
    re::Digest {
        hash: d.hex(),
        size_bytes: size as i64,
    }
}

/// A server's digest as kiln's, if it is a well-formed sha256.
pub fn from_re(d: &re::Digest) -> Option<(Digest, u64)> {
    let digest: Digest = d.hash.parse().ok()?;
    (d.size_bytes >= 0).then_some((digest, d.size_bytes as u64))
}

/// Is `url` a REAPI server's (`grpc://` or `grpcs://`)?
pub fn is_reapi_url(url: &str) -> bool {
    url.starts_with("grpc://") || url.starts_with("grpcs://")
}

impl Client {
    /// Ready to connect to `url` (nothing is sent until the first call). The instance
    /// name may not be a path that escapes resource names.
    pub fn new(url: &str, instance: &str) -> Result<Client, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url}: not a grpc:// or grpcs:// URL"))?;
        let http = match scheme {
            "grpc" => "http",
            "grpcs" => "https",
            _ => return Err(format!("{url}: not a grpc:// or grpcs:// URL")),
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '@', '?', '#']) || !host.contains(':') {
            return Err(format!(
                "{url}: expected grpc://HOST:PORT (the instance name goes in [cache] instance or --remote-instance)"
            ));
        }
        if instance
            .split('/')
            .any(|p| matches!(p, "blobs" | "uploads" | "." | ".."))
            || instance.starts_with('/')
            || instance.ends_with('/')
            || instance.chars().any(|c| c.is_control() || c == ' ')
        {
            return Err(format!(
                "instance name {instance:?}: must be a plain path without the words blobs or uploads"
            ));
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kiln-reapi")
            .enable_all()
            .build()
            .map_err(|e| format!("starting the gRPC runtime: {e}"))?;
        let mut endpoint = Endpoint::from_shared(format!("{http}://{host}"))
            .map_err(|e| format!("{url}: {e}"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            // gRPC servers refuse pings more often than every 5 minutes without data
            // (grpc's default; BuildGrid's Python server closes the connection with
            // "too many pings"), and an Execute stream may be silent that long.
            .http2_keep_alive_interval(Duration::from_secs(310))
            .keep_alive_timeout(Duration::from_secs(20));
        if http == "https" {
            endpoint = endpoint
                .tls_config(tonic::transport::ClientTlsConfig::new().with_webpki_roots())
                .map_err(|e| format!("{url}: {e}"))?;
        }
        let channel = {
            let _guard = rt.enter();
            endpoint.connect_lazy()
        };
        Ok(Client {
            url: url.to_string(),
            instance: instance.to_string(),
            rt,
            channel,
            caps: OnceLock::new(),
        })
    }

    /// `grpc://host:port` and the instance, for messages.
    pub fn name(&self) -> String {
        if self.instance.is_empty() {
            self.url.clone()
        } else {
            format!("{} (instance {})", self.url, self.instance)
        }
    }

    pub fn instance(&self) -> &str {
        &self.instance
    }

    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// Run `fut` on the client's runtime, bounded by `limit`.
    pub fn block_on<T>(
        &self,
        limit: Duration,
        fut: impl std::future::Future<Output = Result<T, tonic::Status>>,
    ) -> Result<T, CallError> {
        self.rt.block_on(async {
            match tokio::time::timeout(limit, fut).await {
                Ok(Ok(v)) => Ok(v),
                Ok(Err(s)) => Err(status_text(&s)),
                Err(_) => Err(format!("no answer within {}s", limit.as_secs())),
            }
        })
    }

    fn cas(&self) -> ContentAddressableStorageClient<Channel> {
        ContentAddressableStorageClient::new(self.channel())
            .max_decoding_message_size(MAX_MESSAGE)
            .max_encoding_message_size(MAX_MESSAGE)
    }

    fn request<T>(&self, msg: T) -> tonic::Request<T> {
        let mut r = tonic::Request::new(msg);
        r.set_timeout(CALL_TIMEOUT);
        r
    }

    /// What the server can do (asked once), refusing one without sha256.
    pub fn caps(&self) -> Result<Caps, CallError> {
        self.caps
            .get_or_init(|| {
                let req = self.request(re::GetCapabilitiesRequest {
                    instance_name: self.instance.clone(),
                });
                let caps = self.block_on(CALL_TIMEOUT, async {
                    CapabilitiesClient::new(self.channel())
                        .get_capabilities(req)
                        .await
                        .map(|r| r.into_inner())
                })?;
                let cache = caps.cache_capabilities.unwrap_or_default();
                let sha256 = re::digest_function::Value::Sha256 as i32;
                if !cache.digest_functions.is_empty() && !cache.digest_functions.contains(&sha256) {
                    return Err("the server does not offer the sha256 digest function".into());
                }
                let limit = u64::try_from(cache.max_batch_total_size_bytes)
                    .ok()
                    .filter(|&n| n > 0)
                    .unwrap_or(DEFAULT_BATCH)
                    .min(MAX_MESSAGE as u64);
                Ok(Caps {
                    batch: limit.saturating_sub(BATCH_OVERHEAD).max(1),
                    update_action_cache: cache
                        .action_cache_update_capabilities
                        .is_none_or(|c| c.update_enabled),
                })
            })
            .clone()
    }

    /// The action cache's result for an action, if it has one.
    pub fn get_action_result(
        &self,
        action: &re::Digest,
    ) -> Result<Option<re::ActionResult>, CallError> {
        self.caps()?;
        let req = self.request(re::GetActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(action.clone()),
            digest_function: re::digest_function::Value::Sha256 as i32,
            ..Default::default()
        });
        let mut ac = ActionCacheClient::new(self.channel()).max_decoding_message_size(MAX_MESSAGE);
        self.block_on(CALL_TIMEOUT, async {
            match ac.get_action_result(req).await {
                Ok(r) => Ok(Some(r.into_inner())),
                Err(s) if s.code() == tonic::Code::NotFound => Ok(None),
                Err(s) => Err(s),
            }
        })
    }

    pub fn update_action_result(
        &self,
        action: &re::Digest,
        result: re::ActionResult,
    ) -> Result<(), CallError> {
        let req = self.request(re::UpdateActionResultRequest {
            instance_name: self.instance.clone(),
            action_digest: Some(action.clone()),
            action_result: Some(result),
            digest_function: re::digest_function::Value::Sha256 as i32,
            ..Default::default()
        });
        let mut ac = ActionCacheClient::new(self.channel()).max_encoding_message_size(MAX_MESSAGE);
        self.block_on(CALL_TIMEOUT, async {
            ac.update_action_result(req).await.map(|_| ())
        })
    }

    /// Which of `digests` the server lacks.
    pub fn find_missing(&self, digests: &[re::Digest]) -> Result<Vec<re::Digest>, CallError> {
        let mut missing = Vec::new();
        // 10,000 digests are about 1 MB of request.
        for chunk in digests.chunks(10_000) {
            let req = self.request(re::FindMissingBlobsRequest {
                instance_name: self.instance.clone(),
                blob_digests: chunk.to_vec(),
                digest_function: re::digest_function::Value::Sha256 as i32,
            });
            let mut cas = self.cas();
            let r = self.block_on(CALL_TIMEOUT, async {
                cas.find_missing_blobs(req).await.map(|r| r.into_inner())
            })?;
            missing.extend(r.missing_blob_digests);
        }
        Ok(missing)
    }

    /// Upload what the server lacks of `blobs` (each from memory or a file): small ones
    /// in batches within the server's limit, larger ones streamed over ByteStream.
    pub fn upload(&self, blobs: &[Blob]) -> Result<(), CallError> {
        let caps = self.caps()?;
        let wanted: Vec<re::Digest> = blobs.iter().map(|b| b.digest.clone()).collect();
        let missing: std::collections::HashSet<String> = self
            .find_missing(&wanted)?
            .into_iter()
            .map(|d| d.hash)
            .collect();
        let mut seen = std::collections::HashSet::new();
        let todo: Vec<&Blob> = blobs
            .iter()
            .filter(|b| missing.contains(&b.digest.hash) && seen.insert(b.digest.hash.clone()))
            .collect();
        let mut batch: Vec<re::batch_update_blobs_request::Request> = Vec::new();
        let mut batch_bytes = 0u64;
        for b in todo {
            let size = b.digest.size_bytes as u64;
            if size > caps.batch {
                self.write_stream(b)?;
                continue;
            }
            if batch_bytes + size > caps.batch {
                self.batch_update(std::mem::take(&mut batch))?;
                batch_bytes = 0;
            }
            batch.push(re::batch_update_blobs_request::Request {
                digest: Some(b.digest.clone()),
                data: b.bytes().map_err(|e| e.to_string())?,
                ..Default::default()
            });
            batch_bytes += size;
        }
        if !batch.is_empty() {
            self.batch_update(batch)?;
        }
        Ok(())
    }

    fn batch_update(
        &self,
        requests: Vec<re::batch_update_blobs_request::Request>,
    ) -> Result<(), CallError> {
        let req = self.request(re::BatchUpdateBlobsRequest {
            instance_name: self.instance.clone(),
            requests,
            digest_function: re::digest_function::Value::Sha256 as i32,
        });
        let mut cas = self.cas();
        let r = self.block_on(CALL_TIMEOUT, async {
            cas.batch_update_blobs(req).await.map(|r| r.into_inner())
        })?;
        for resp in r.responses {
            if let Some(s) = resp.status.filter(|s| s.code != 0) {
                let hash = resp.digest.map(|d| d.hash).unwrap_or_default();
                return Err(format!(
                    "uploading blob {}: code {}: {}",
                    short(&hash),
                    s.code,
                    clean(&s.message)
                ));
            }
        }
        Ok(())
    }

    fn resource(&self, tail: String) -> String {
        if self.instance.is_empty() {
            tail
        } else {
            format!("{}/{tail}", self.instance)
        }
    }

    /// A blob too big for a batch, streamed from its file (never whole in memory).
    fn write_stream(&self, b: &Blob) -> Result<(), CallError> {
        let BlobSource::File(path) = &b.source else {
            return Err("an in-memory blob above the batch limit".into());
        };
        let size = b.digest.size_bytes as u64;
        let mut uuid = [0u8; 16];
        getrandom::fill(&mut uuid).map_err(|e| e.to_string())?;
        let name = self.resource(format!(
            "uploads/{}/blobs/{}/{}",
            uuid_text(&uuid),
            b.digest.hash,
            size
        ));
        let file = fs_err::File::open(path).map_err(|e| e.to_string())?;
        let (tx, rx) = tokio::sync::mpsc::channel::<bs::WriteRequest>(4);
        // A thread reads the file a chunk at a time; the channel holds at most four.
        let reader = std::thread::spawn(move || -> std::io::Result<()> {
            use std::io::Read;
            let mut file = file;
            let mut offset = 0u64;
            loop {
                let mut buf = vec![0u8; CHUNK];
                let mut filled = 0;
                while filled < CHUNK {
                    let n = file.read(&mut buf[filled..])?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                buf.truncate(filled);
                let finish = offset + filled as u64 >= size || filled == 0;
                let msg = bs::WriteRequest {
                    resource_name: if offset == 0 {
                        name.clone()
                    } else {
                        String::new()
                    },
                    write_offset: offset as i64,
                    finish_write: finish,
                    data: buf,
                };
                offset += filled as u64;
                if tx.blocking_send(msg).is_err() || finish {
                    return Ok(());
                }
            }
        });
        let mut client = bs::byte_stream_client::ByteStreamClient::new(self.channel())
            .max_encoding_message_size(MAX_MESSAGE);
        let limit = CALL_TIMEOUT + PER_MIB * (size / (1 << 20)) as u32;
        let result = self.block_on(limit, async {
            client
                .write(tokio_stream::wrappers::ReceiverStream::new(rx))
                .await
                .map(|r| r.into_inner())
        });
        let read = reader
            .join()
            .map_err(|_| "the upload's reader panicked".to_string())?;
        read.map_err(|e| format!("{}: {e}", path.display()))?;
        let r = result?;
        if r.committed_size != size as i64 && r.committed_size != -1 {
            return Err(format!(
                "the server committed {} of the {size} bytes of blob {}",
                r.committed_size,
                short(&b.digest.hash)
            ));
        }
        Ok(())
    }

    /// Bring blobs into the local CAS (checked against their digests): small ones in
    /// batches, larger ones streamed to a temp file.
    pub fn download(&self, cache: &Cache, digests: &[re::Digest]) -> Result<(), CallError> {
        self.download_until(cache, digests, &crate::sandbox::CANCELLED)
    }

    /// `download`, stopping between calls once `stop` is set (or on Ctrl-C).
    pub fn download_until(
        &self,
        cache: &Cache,
        digests: &[re::Digest],
        stop: &std::sync::atomic::AtomicBool,
    ) -> Result<(), CallError> {
        use std::sync::atomic::Ordering;
        let stopped =
            || stop.load(Ordering::Relaxed) || crate::sandbox::CANCELLED.load(Ordering::Relaxed);
        let caps = self.caps()?;
        let mut seen = std::collections::HashSet::new();
        let mut todo = Vec::new();
        for d in digests {
            let (digest, size) =
                from_re(d).ok_or_else(|| format!("a malformed digest {:?}", short(&d.hash)))?;
            if fs_err::metadata(cache.cas_path(&digest)).is_ok_and(|m| m.len() == size) {
                continue;
            }
            if seen.insert(digest) {
                todo.push((digest, size));
            }
        }
        let mut batch: Vec<(Digest, u64)> = Vec::new();
        let mut batch_bytes = 0;
        for (digest, size) in todo {
            if stopped() {
                return Err("stopped".into());
            }
            if size > caps.batch {
                self.read_stream(cache, &digest, size)?;
                continue;
            }
            if batch_bytes + size > caps.batch || batch.len() >= BATCH_BLOBS {
                self.batch_read(cache, std::mem::take(&mut batch))?;
                batch_bytes = 0;
            }
            batch.push((digest, size));
            batch_bytes += size;
        }
        if !batch.is_empty() {
            self.batch_read(cache, batch)?;
        }
        Ok(())
    }

    /// One `BatchReadBlobs` call.
    fn batch_read_call(
        &self,
        digests: Vec<re::Digest>,
    ) -> Result<Vec<re::batch_read_blobs_response::Response>, CallError> {
        let req = self.request(re::BatchReadBlobsRequest {
            instance_name: self.instance.clone(),
            digests,
            digest_function: re::digest_function::Value::Sha256 as i32,
            ..Default::default()
        });
        let mut cas = self.cas();
        let r = self.block_on(CALL_TIMEOUT, async {
            cas.batch_read_blobs(req).await.map(|r| r.into_inner())
        })?;
        Ok(r.responses)
    }

    fn batch_read(&self, cache: &Cache, blobs: Vec<(Digest, u64)>) -> Result<(), CallError> {
        let responses = self.batch_read_call(blobs.iter().map(|(d, s)| to_re(d, *s)).collect())?;
        let asked: std::collections::HashSet<Digest> = blobs.iter().map(|(d, _)| *d).collect();
        let mut got = std::collections::HashSet::new();
        for resp in responses {
            let hash = resp
                .digest
                .as_ref()
                .map(|d| d.hash.clone())
                .unwrap_or_default();
            if let Some(s) = resp.status.filter(|s| s.code != 0) {
                return Err(format!(
                    "blob {} could not be read: code {}: {}",
                    short(&hash),
                    s.code,
                    clean(&s.message)
                ));
            }
            let Some((digest, _)) = resp.digest.as_ref().and_then(from_re) else {
                return Err("the server answered with a malformed digest".into());
            };
            if !asked.contains(&digest) || got.contains(&digest) {
                continue;
            }
            if Digest::of_bytes(&resp.data) != digest {
                return Err(format!("blob {} does not match its digest", short(&hash)));
            }
            let tmp = cache.tmp_path("reapi");
            fs_err::write(&tmp, &resp.data).map_err(|e| e.to_string())?;
            cache
                .insert_output(&tmp, &digest)
                .map_err(|e| e.to_string())?;
            got.insert(digest);
        }
        if got.len() < blobs.len() {
            return Err(format!(
                "the server returned {} of {} blobs",
                got.len(),
                blobs.len()
            ));
        }
        Ok(())
    }

    fn read_stream(&self, cache: &Cache, digest: &Digest, size: u64) -> Result<(), CallError> {
        use std::io::Write;
        let req = bs::ReadRequest {
            resource_name: self.resource(format!("blobs/{}/{size}", digest.hex())),
            read_offset: 0,
            read_limit: 0,
        };
        let tmp = cache.tmp_path("reapi");
        let mut out = HashingWriter::new(fs_err::File::create(&tmp).map_err(|e| e.to_string())?);
        let mut client = bs::byte_stream_client::ByteStreamClient::new(self.channel())
            .max_decoding_message_size(MAX_MESSAGE);
        let limit = CALL_TIMEOUT + PER_MIB * (size / (1 << 20)) as u32;
        let start = tokio::time::Instant::now();
        let result = self.block_on(limit, async {
            let mut stream = client.read(req).await?.into_inner();
            let mut n = 0u64;
            // The time allowed grows with what arrived, not with the size the server
            // claims: a trickle is cut off as a stall is.
            loop {
                let due = start + CALL_TIMEOUT + PER_MIB * (n / (1 << 20) + 1) as u32;
                let Ok(next) = tokio::time::timeout_at(due, stream.message()).await else {
                    return Err(tonic::Status::deadline_exceeded(format!(
                        "the blob arrives slower than 1 MiB/s ({n} of {size} bytes so far)"
                    )));
                };
                let Some(msg) = next? else {
                    break;
                };
                n += msg.data.len() as u64;
                if n > size {
                    return Err(tonic::Status::out_of_range(
                        "the blob is longer than its digest says",
                    ));
                }
                out.write_all(&msg.data)
                    .map_err(|e| tonic::Status::internal(e.to_string()))?;
            }
            Ok(())
        });
        let check = result.and_then(|()| {
            out.flush().map_err(|e| e.to_string())?;
            if out.hasher.finish() != *digest {
                return Err(format!(
                    "blob {} does not match its digest",
                    &digest.hex()[..12]
                ));
            }
            Ok(())
        });
        if let Err(e) = check {
            let _ = fs_err::remove_file(&tmp);
            return Err(e);
        }
        cache
            .insert_output(&tmp, digest)
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// Why a remote execution did not give a result.
#[derive(Debug)]
pub enum ExecError {
    /// The server cannot be reached or went away: the build may fall back to running
    /// actions here.
    Unavailable(String),
    /// The server answered, and the action failed there (or was refused).
    Failed(String),
    /// The action ran out of its time on the worker (the result holds its log).
    TimedOut(Option<Box<re::ActionResult>>),
}

/// The gRPC codes that mean the server (not the action) is not there.
fn unavailable(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Cancelled
    )
}

impl Client {
    /// Run an action (its inputs already uploaded) through `Execute`, waiting on the
    /// operation (again with `WaitExecution` when the stream breaks) for at most
    /// `limit`. The server may answer from its cache.
    pub fn execute(
        &self,
        action: &re::Digest,
        limit: Duration,
    ) -> Result<re::ActionResult, ExecError> {
        use bazel_remote_apis::google::longrunning::operation::Result as OpResult;
        use re::execution_client::ExecutionClient;
        let deadline = tokio::time::Instant::now() + limit;
        let instance = self.instance.clone();
        let channel = self.channel();
        let action = action.clone();
        self.rt.block_on(async move {
            let mut client = ExecutionClient::new(channel)
                .max_decoding_message_size(MAX_MESSAGE)
                .max_encoding_message_size(MAX_MESSAGE);
            let mut name: Option<String> = None;
            // A broken stream is picked up again a few times; a server that is gone
            // fails at once on the next call.
            for _ in 0..5 {
                let stream = match &name {
                    None => {
                        let req = re::ExecuteRequest {
                            instance_name: instance.clone(),
                            action_digest: Some(action.clone()),
                            digest_function: re::digest_function::Value::Sha256 as i32,
                            ..Default::default()
                        };
                        tokio::time::timeout_at(deadline, client.execute(req)).await
                    }
                    Some(n) => {
                        let req = re::WaitExecutionRequest { name: n.clone() };
                        tokio::time::timeout_at(deadline, client.wait_execution(req)).await
                    }
                };
                let mut stream = match stream {
                    Err(_) => {
                        return Err(ExecError::Failed(format!(
                            "no result within {}s",
                            limit.as_secs()
                        )));
                    }
                    Ok(Err(s)) if unavailable(s.code()) => {
                        return Err(ExecError::Unavailable(status_text(&s)));
                    }
                    Ok(Err(s)) => return Err(ExecError::Failed(status_text(&s))),
                    Ok(Ok(r)) => r.into_inner(),
                };
                loop {
                    let msg = match tokio::time::timeout_at(deadline, stream.message()).await {
                        Err(_) => {
                            return Err(ExecError::Failed(format!(
                                "no result within {}s",
                                limit.as_secs()
                            )));
                        }
                        Ok(Ok(Some(op))) => op,
                        // The stream ended or broke before the operation was done.
                        Ok(Ok(None)) | Ok(Err(_)) => break,
                    };
                    if name.is_none() && !msg.name.is_empty() {
                        name = Some(msg.name.clone());
                    }
                    if !msg.done {
                        continue;
                    }
                    return match msg.result {
                        Some(OpResult::Response(any)) => {
                            use prost::Message;
                            let resp =
                                re::ExecuteResponse::decode(&any.value[..]).map_err(|e| {
                                    ExecError::Failed(format!(
                                        "an ExecuteResponse that does not decode: {e}"
                                    ))
                                })?;
                            let status = resp.status.unwrap_or_default();
                            match tonic::Code::from(status.code) {
                                tonic::Code::Ok => resp.result.ok_or_else(|| {
                                    ExecError::Failed(
                                        "the server's response holds no result".into(),
                                    )
                                }),
                                tonic::Code::DeadlineExceeded => {
                                    Err(ExecError::TimedOut(resp.result.map(Box::new)))
                                }
                                code => Err(ExecError::Failed(format!(
                                    "{code:?}: {}",
                                    clean(&status.message)
                                ))),
                            }
                        }
                        Some(OpResult::Error(status)) => Err(ExecError::Failed(format!(
                            "{:?}: {}",
                            tonic::Code::from(status.code),
                            clean(&status.message)
                        ))),
                        None => Err(ExecError::Failed(
                            "the operation finished without a result".into(),
                        )),
                    };
                }
                if name.is_none() {
                    break;
                }
            }
            Err(ExecError::Unavailable(
                "the server closed the execution's stream".into(),
            ))
        })
    }

    /// The bytes of a small blob (a Command, a Directory), checked against its digest.
    pub fn read_blob(&self, d: &re::Digest) -> Result<Vec<u8>, CallError> {
        let (digest, size) = from_re(d).ok_or("a malformed digest")?;
        if size > MAX_MESSAGE as u64 {
            return Err(format!(
                "blob {} is too large to read whole",
                short(&d.hash)
            ));
        }
        let resp = self
            .batch_read_call(vec![d.clone()])?
            .into_iter()
            .next()
            .ok_or("the server returned no blob")?;
        if let Some(s) = resp.status.filter(|s| s.code != 0) {
            return Err(format!(
                "blob {}: code {}: {}",
                short(&d.hash),
                s.code,
                clean(&s.message)
            ));
        }
        if Digest::of_bytes(&resp.data) != digest {
            return Err(format!("blob {} does not match its digest", short(&d.hash)));
        }
        Ok(resp.data)
    }
}

/// A blob to upload: its digest and where its bytes are.
#[derive(Clone)]
pub struct Blob {
    pub digest: re::Digest,
    pub source: BlobSource,
}

#[derive(Clone)]
pub enum BlobSource {
    Bytes(Vec<u8>),
    File(std::path::PathBuf),
}

impl Blob {
    pub fn bytes_of(bytes: Vec<u8>) -> Blob {
        Blob {
            digest: to_re(&Digest::of_bytes(&bytes), bytes.len() as u64),
            source: BlobSource::Bytes(bytes),
        }
    }

    pub fn file(path: &Path, digest: &Digest, size: u64) -> Blob {
        Blob {
            digest: to_re(digest, size),
            source: BlobSource::File(path.to_path_buf()),
        }
    }

    fn bytes(&self) -> std::io::Result<Vec<u8>> {
        match &self.source {
            BlobSource::Bytes(b) => Ok(b.clone()),
            BlobSource::File(p) => fs_err::read(p),
        }
    }
}

fn short(hash: &str) -> String {
    hash.chars()
        .filter(|c| c.is_ascii_hexdigit())
        .take(12)
        .collect()
}

fn uuid_text(b: &[u8; 16]) -> String {
    let h = hex::encode(b);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
