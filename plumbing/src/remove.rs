//! Removing a tree that may hold read-only directories (unpacked bundles, extracted
//! archives, sandboxes), without ever following a symbolic link: every directory is
//! opened with `O_NOFOLLOW` relative to its parent's handle and made writable through
//! that handle, so a link planted anywhere in the tree (or as the tree itself) is
//! removed as a link and its target is never touched.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags, RenameFlags};

/// Remove `path` and everything below it. A link is removed as a link; a missing path
/// is not an error.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match fs_err::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return fs_err::remove_file(path);
    }
    let fd = rustix::fs::openat(CWD, path, dir_flags(), Mode::empty())?;
    empty(&fd)?;
    drop(fd);
    fs_err::remove_dir(path)
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// How many directories deep the removal holds open at once. A subdirectory below
/// that is moved up to the top of the tree first, so a tree of any depth (a command can
/// make one 100,000 levels deep) is removed with bounded recursion and descriptors.
const MAX_DEPTH: usize = 32;

/// Make the directory behind `root` writable and remove what it holds.
fn empty(root: &OwnedFd) -> io::Result<()> {
    let mut hoisted = 0u64;
    empty_at(root, root, 0, &mut hoisted)
}

/// The entries of a directory (not `.` and `..`), and whether each is a directory.
fn entries(fd: &OwnedFd) -> io::Result<Vec<(std::ffi::CString, bool)>> {
    let mut entries = Vec::new();
    for e in Dir::read_from(fd)? {
        let e = e?;
        let name = e.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        let mut kind = e.file_type();
        if kind == FileType::Unknown {
            kind = FileType::from_raw_mode(
                rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW)?.st_mode,
            );
        }
        entries.push((name.to_owned(), kind == FileType::Directory));
    }
    Ok(entries)
}

fn empty_at(root: &OwnedFd, fd: &OwnedFd, depth: usize, hoisted: &mut u64) -> io::Result<()> {
    rustix::fs::fchmod(fd, Mode::from_raw_mode(0o700))?;
    loop {
        let list = entries(fd)?;
        if list.is_empty() {
            return Ok(());
        }
        for (name, is_dir) in list {
            if !is_dir {
                rustix::fs::unlinkat(fd, &name, AtFlags::empty())?;
            } else if depth + 1 < MAX_DEPTH {
                let sub = rustix::fs::openat(fd, &name, dir_flags(), Mode::empty())?;
                empty_at(root, &sub, depth + 1, hoisted)?;
                rustix::fs::unlinkat(fd, &name, AtFlags::REMOVEDIR)?;
            } else {
                // Too deep: move it to the top, where the top's next pass removes it.
                rustix::fs::fchmod(fd, Mode::from_raw_mode(0o700))?;
                loop {
                    *hoisted += 1;
                    let to = format!(".kiln-removing-{hoisted}");
                    match rustix::fs::renameat_with(
                        fd,
                        &name,
                        root,
                        to.as_str(),
                        RenameFlags::NOREPLACE,
                    ) {
                        Err(rustix::io::Errno::EXIST) => continue,
                        r => break r?,
                    }
                }
            }
        }
        // Only the top looks again: that is where deep directories were moved.
        if depth > 0 {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    /// Far deeper than a thread's stack would allow one frame per level.
    #[test]
    fn a_tree_of_any_depth_goes() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("tree");
        fs_err::create_dir(&tree).unwrap();
        // Made level by level through handles: the whole path is longer than PATH_MAX.
        use rustix::fs::{Mode, OFlags, mkdirat, openat};
        let mut fd = openat(rustix::fs::CWD, &tree, super::dir_flags(), Mode::empty()).unwrap();
        for _ in 0..5000 {
            mkdirat(&fd, "d", Mode::from_raw_mode(0o755)).unwrap();
            fd = openat(&fd, "d", super::dir_flags(), Mode::empty()).unwrap();
        }
        let f = openat(
            &fd,
            "f",
            OFlags::CREATE | OFlags::WRONLY,
            Mode::from_raw_mode(0o444),
        )
        .unwrap();
        drop((f, fd));
        super::remove_tree(&tree).unwrap();
        assert!(!tree.exists());
    }

    #[test]
    fn read_only_trees_go_and_link_targets_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs_err::create_dir_all(outside.join("keep")).unwrap();
        fs_err::write(outside.join("keep/file"), "x").unwrap();
        fs_err::set_permissions(outside.join("keep"), PermissionsExt::from_mode(0o555)).unwrap();
        let tree = tmp.path().join("tree");
        fs_err::create_dir_all(tree.join("a/b")).unwrap();
        fs_err::write(tree.join("a/b/f"), "y").unwrap();
        fs_err::os::unix::fs::symlink(&outside, tree.join("a/link")).unwrap();
        for d in ["a/b", "a", ""] {
            fs_err::set_permissions(tree.join(d), PermissionsExt::from_mode(0o555)).unwrap();
        }
        super::remove_tree(&tree).unwrap();
        assert!(!tree.exists());
        // The tree itself a link: only the link goes.
        let link = tmp.path().join("linked");
        fs_err::os::unix::fs::symlink(&outside, &link).unwrap();
        super::remove_tree(&link).unwrap();
        assert!(fs_err::symlink_metadata(&link).is_err());
        let mode = fs_err::metadata(outside.join("keep"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o555);
        assert!(outside.join("keep/file").is_file());
        super::remove_tree(&tmp.path().join("missing")).unwrap();
    }
}
