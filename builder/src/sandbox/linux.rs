//! The Linux sandbox, in two stages re-executed from the kiln binary so that each is
//! single-threaded when it changes namespaces.
//!
//! Stage 1 (`__sandbox SPEC`) unshares user, mount, pid, network, IPC and UTS
//! namespaces, maps the caller's uid/gid to themselves, and builds a new root on a
//! tmpfs: the host's `/usr`, `/bin`, `/lib*` and a few `/etc` files read-only, a few
//! `/dev` nodes, a private tmpfs `/tmp`, the runfiles tree read-only at
//! `/kiln/runfiles` and the outputs directory writable at `/kiln/out`. It then starts
//! stage 2, which is pid 1 of the new pid namespace.
//!
//! Stage 2 (`__sandbox-init SPEC`) mounts `/proc`, pivots into the new root, detaches
//! the old one, makes `/` read-only, runs the command with only the given environment,
//! reaps orphans, and exits with the command's status. When it exits, the kernel kills
//! every process left in the namespace. Both stages die with their parent
//! (PR_SET_PDEATHSIG), so killing stage 1 tears the whole sandbox down.
//!
//! The network namespace is empty (its loopback is down): nothing can be reached, not
//! even 127.0.0.1 on the host. Nothing here may ever weaken those walls.

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::Signal;
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{Pid, getgid, getppid, getuid, pivot_root, sethostname};

use super::Spec;

pub const ENTRY_STAGE1: &str = "__sandbox";
pub const ENTRY_INIT: &str = "__sandbox-init";
pub const ENTRY_PROBE: &str = "__sandbox-probe";
pub const RUNFILES: &str = "/kiln/runfiles";
pub const OUT: &str = "/kiln/out";
/// Written into the scratch directory when setting up fails, read by kiln.
pub const SETUP_ERROR: &str = "setup-error";

/// Exit code of a stage that could not set the sandbox up.
const SETUP_FAILED: i32 = 125;

const BASE_DIRS: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];
const ETC_FILES: &[&str] = &[
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/hosts",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/alternatives",
];
const DEV_NODES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// Called first thing in `main`: runs a sandbox stage and never returns, or returns
/// for ordinary invocations.
pub fn entry() {
    let mut args = std::env::args_os().skip(1);
    let Some(first) = args.next() else { return };
    let spec = args.next().map(PathBuf::from);
    let result = match first.to_str() {
        Some(ENTRY_STAGE1) => spec.ok_or("no spec".to_string()).and_then(|s| stage1(&s)),
        Some(ENTRY_INIT) => spec.ok_or("no spec".to_string()).and_then(|s| stage2(&s)),
        Some(ENTRY_PROBE) => probe(),
        _ => return,
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(SETUP_FAILED);
        }
    }
}

fn ctx<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {e}"))
}

fn read_spec(path: &Path) -> Result<Spec, String> {
    let bytes = ctx("reading the sandbox spec", fs_err::read(path))?;
    ctx("parsing the sandbox spec", serde_json::from_slice(&bytes))
}

/// Record a setup failure where kiln looks for it.
fn setup_failed(spec: &Spec, msg: String) -> String {
    let _ = fs_err::write(spec.scratch.join(SETUP_ERROR), &msg);
    msg
}

fn enter_namespaces() -> Result<(), String> {
    let (uid, gid) = (getuid(), getgid());
    unshare(
        CloneFlags::CLONE_NEWUSER
            | CloneFlags::CLONE_NEWNS
            | CloneFlags::CLONE_NEWPID
            | CloneFlags::CLONE_NEWNET
            | CloneFlags::CLONE_NEWIPC
            | CloneFlags::CLONE_NEWUTS,
    )
    .map_err(|e| {
        let why = match e {
            nix::errno::Errno::ENOSPC => "the limit on user namespaces is reached (user.max_user_namespaces is 0 or used up)",
            nix::errno::Errno::EPERM => "not permitted (unprivileged user namespaces are disabled, or a seccomp or AppArmor policy forbids them)",
            nix::errno::Errno::EINVAL => "this kernel lacks one of the namespaces",
            _ => "unexpected error",
        };
        format!("creating namespaces failed: {why} ({e})")
    })?;
    ctx(
        "writing setgroups",
        fs_err::write("/proc/self/setgroups", "deny"),
    )?;
    ctx(
        "writing uid_map",
        fs_err::write("/proc/self/uid_map", format!("{uid} {uid} 1")),
    )?;
    ctx(
        "writing gid_map",
        fs_err::write("/proc/self/gid_map", format!("{gid} {gid} 1")),
    )?;
    ctx("sethostname", sethostname("kiln"))?;
    ctx(
        "making mounts private",
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        ),
    )
}

fn probe() -> Result<i32, String> {
    enter_namespaces()?;
    let dir = std::env::temp_dir();
    ctx(
        "mounting a tmpfs",
        mount(
            Some("tmpfs"),
            &dir,
            Some("tmpfs"),
            MsFlags::empty(),
            None::<&str>,
        ),
    )?;
    Ok(0)
}

fn stage1(spec_path: &Path) -> Result<i32, String> {
    ctx("prctl", nix::sys::prctl::set_pdeathsig(Signal::SIGKILL))?;
    let spec = read_spec(spec_path)?;
    if getppid() != Pid::from_raw(spec.parent as i32) {
        return Ok(SETUP_FAILED); // kiln died before we could watch it
    }
    build_root(&spec)
        .and_then(|()| pass_mount_rights_to_init())
        .map_err(|e| setup_failed(&spec, e))?;
    let exe = ctx("locating kiln", std::env::current_exe())?;
    let status = ctx(
        "starting the sandbox init",
        Command::new(exe).arg(ENTRY_INIT).arg(spec_path).status(),
    )
    .map_err(|e| setup_failed(&spec, e))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
}

/// Stage 2 is exec'd, and exec drops a non-root user's capabilities: carry the two it
/// needs (mounting, and dropping the rest later) across as ambient capabilities.
fn pass_mount_rights_to_init() -> Result<(), String> {
    use rustix::thread::{CapabilitySet, CapabilitySets, capabilities, set_capabilities};
    let caps = ctx("reading capabilities", capabilities(None))?;
    ctx(
        "setting inheritable capabilities",
        set_capabilities(
            None,
            CapabilitySets {
                inheritable: caps.permitted,
                ..caps
            },
        ),
    )?;
    for cap in [CapabilitySet::SYS_ADMIN, CapabilitySet::SETPCAP] {
        ctx(
            "raising an ambient capability",
            rustix::thread::configure_capability_in_ambient_set(cap, true),
        )?;
    }
    Ok(())
}

/// The command gets no capabilities at all, whatever uid it has inside: it cannot
/// remount, unmount or otherwise undo the walls, and setuid or file-capability
/// binaries gain it nothing (no_new_privs).
fn drop_all_capabilities() -> Result<(), String> {
    use rustix::thread::{CapabilitySet, CapabilitySets, capabilities, set_capabilities};
    for cap in CapabilitySet::all().iter() {
        // Capabilities this kernel does not know are refused with EINVAL: not held.
        match rustix::thread::remove_capability_from_bounding_set(cap) {
            Ok(()) | Err(rustix::io::Errno::INVAL) => {}
            Err(e) => return Err(format!("dropping the capability bounding set: {e}")),
        }
    }
    ctx(
        "clearing ambient capabilities",
        rustix::thread::clear_ambient_capability_set(),
    )?;
    let caps = ctx("reading capabilities", capabilities(None))?;
    ctx(
        "clearing inheritable capabilities",
        set_capabilities(
            None,
            CapabilitySets {
                inheritable: CapabilitySet::empty(),
                ..caps
            },
        ),
    )?;
    ctx(
        "setting no_new_privs",
        rustix::thread::set_no_new_privs(true),
    )
}

fn build_root(spec: &Spec) -> Result<(), String> {
    enter_namespaces()?;
    let root = spec.scratch.join("root");
    ctx("creating the root", fs_err::create_dir_all(&root))?;
    ctx(
        "mounting the root tmpfs",
        mount(
            Some("tmpfs"),
            &root,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=0755"),
        ),
    )?;
    for dir in BASE_DIRS {
        mirror(Path::new(dir), &root)?;
    }
    ctx("creating /etc", fs_err::create_dir_all(root.join("etc")))?;
    for f in ETC_FILES {
        mirror(Path::new(f), &root)?;
    }
    let dev = root.join("dev");
    ctx("creating /dev", fs_err::create_dir_all(&dev))?;
    for node in DEV_NODES {
        let host = Path::new("/dev").join(node);
        if host.exists() {
            ctx("creating a /dev node", fs_err::write(dev.join(node), b""))?;
            bind(&host, &dev.join(node), false)?;
        }
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        ctx(
            "linking /dev",
            fs_err::os::unix::fs::symlink(target, dev.join(name)),
        )?;
    }
    for tmp in ["tmp", "dev/shm"] {
        let t = root.join(tmp);
        ctx("creating a tmpfs dir", fs_err::create_dir_all(&t))?;
        ctx(
            "mounting a private /tmp",
            mount(
                Some("tmpfs"),
                &t,
                Some("tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                Some("mode=1777"),
            ),
        )?;
    }
    ctx("creating /proc", fs_err::create_dir_all(root.join("proc")))?;
    let runfiles = root.join(RUNFILES.trim_start_matches('/'));
    ctx(
        "creating the runfiles mount point",
        fs_err::create_dir_all(&runfiles),
    )?;
    bind(&spec.runfiles, &runfiles, true)?;
    if let Some(out) = &spec.out {
        let o = root.join(OUT.trim_start_matches('/'));
        ctx(
            "creating the outputs mount point",
            fs_err::create_dir_all(&o),
        )?;
        bind(out, &o, false)?;
    }
    Ok(())
}

/// Reproduce a host path inside the new root: symlinks as symlinks, directories and
/// files as read-only bind mounts. Missing paths are skipped.
fn mirror(host: &Path, root: &Path) -> Result<(), String> {
    let Ok(meta) = fs_err::symlink_metadata(host) else {
        return Ok(());
    };
    let inside = root.join(host.strip_prefix("/").expect("absolute"));
    if meta.file_type().is_symlink() {
        let target = ctx("reading a symlink", fs_err::read_link(host))?;
        return ctx(
            "creating a symlink",
            fs_err::os::unix::fs::symlink(target, &inside),
        );
    }
    if meta.is_dir() {
        ctx("creating a mount point", fs_err::create_dir_all(&inside))?;
    } else {
        ctx("creating a mount point", fs_err::write(&inside, b""))?;
    }
    bind(host, &inside, true)
}

fn bind(host: &Path, inside: &Path, read_only: bool) -> Result<(), String> {
    let what = format!("bind-mounting {}", host.display());
    ctx(
        &what,
        mount(
            Some(host),
            inside,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        ),
    )?;
    if read_only {
        remount_read_only(inside)?;
    }
    Ok(())
}

/// Remount a bind mount read-only, keeping the flags the kernel locks in a user
/// namespace (nosuid, nodev, noexec, atime settings).
fn remount_read_only(path: &Path) -> Result<(), String> {
    let current = ctx("statvfs", statvfs(path))?.flags();
    let mut flags = MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY;
    for (st, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if current.contains(st) {
            flags |= ms;
        }
    }
    ctx(
        &format!("remounting {} read-only", path.display()),
        mount(None::<&str>, path, None::<&str>, flags, None::<&str>),
    )
}

fn stage2(spec_path: &Path) -> Result<i32, String> {
    ctx("prctl", nix::sys::prctl::set_pdeathsig(Signal::SIGKILL))?;
    let spec = read_spec(spec_path)?;
    enter_root(&spec)
        .and_then(|()| drop_all_capabilities())
        .map_err(|e| setup_failed(&spec, e))?;
    let child = Command::new(&spec.argv[0])
        .args(&spec.argv[1..])
        .current_dir(&spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            // Not a setup failure: the command itself cannot start (missing script).
            eprintln!("kiln: cannot run {}: {e}", spec.argv[0]);
            return Ok(127);
        }
    };
    let main = Pid::from_raw(child.id() as i32);
    // As pid 1, reap every orphan until the command itself is done.
    loop {
        match waitpid(None, None) {
            Ok(WaitStatus::Exited(pid, code)) if pid == main => return Ok(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == main => return Ok(128 + sig as i32),
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(format!("waiting for the command: {e}")),
        }
    }
}

fn enter_root(spec: &Spec) -> Result<(), String> {
    let root = spec.scratch.join("root");
    ctx(
        "mounting /proc",
        mount(
            Some("proc"),
            &root.join("proc"),
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        ),
    )?;
    let old = root.join(".old-root");
    ctx(
        "creating the old-root mount point",
        fs_err::create_dir_all(&old),
    )?;
    ctx("pivot_root", pivot_root(&root, &old))?;
    ctx("chdir /", std::env::set_current_dir("/"))?;
    ctx(
        "detaching the host's root",
        umount2("/.old-root", MntFlags::MNT_DETACH),
    )?;
    ctx(
        "removing the old-root mount point",
        fs_err::remove_dir("/.old-root"),
    )?;
    remount_read_only(Path::new("/"))
}
