//! Removing a tree that may hold read-only directories (unpacked bundles, extracted
//! archives, sandboxes), without ever following a symbolic link: every directory is
//! opened with `O_NOFOLLOW` relative to its parent's handle and made writable through
//! that handle, so a link planted anywhere in the tree (or as the tree itself) is
//! removed as a link and its target is never touched.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{AtFlags, CWD, Dir, FileType, Mode, OFlags};

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

/// Make the directory behind `fd` writable and remove what it holds, depth first.
fn empty(fd: &OwnedFd) -> io::Result<()> {
    rustix::fs::fchmod(fd, Mode::from_raw_mode(0o700))?;
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
    for (name, is_dir) in entries {
        if is_dir {
            let sub = rustix::fs::openat(fd, &name, dir_flags(), Mode::empty())?;
            empty(&sub)?;
            rustix::fs::unlinkat(fd, &name, AtFlags::REMOVEDIR)?;
        } else {
            rustix::fs::unlinkat(fd, &name, AtFlags::empty())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

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
