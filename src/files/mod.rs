//! Files and folders, written atomically and owner-only: the leaf every
//! stage that writes stands on (transcripts, model files, tables, reviews, the
//! search index, the output folder's lock).
//!
//! Every file callqa writes goes to a temporary file in the same folder first
//! and is renamed over the target only when complete and synced, so a crash or
//! a kill never leaves a half-written transcript or Parquet table: readers see
//! the old file or the new one.
//!
//! Everything written is the owner's alone (files 0600, folders 0700):
//! transcripts, tables, reports and clips hold what customers said. A center
//! whose QA team shares one group says so (`--group-readable`, or
//! `[center] group_readable` in pack.toml): 0640 and 0750.

mod lock;

use std::io::Write;
use std::path::Path;

pub use lock::{lock_folder, FolderLock, LockError, LockMode, LOCK_FILE};

static GROUP_READABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets the owner's group read (never write) what this process writes from
/// now on. Set once, at the start of a command.
pub fn share_with_group(yes: bool) {
    GROUP_READABLE.store(yes, std::sync::atomic::Ordering::Relaxed);
}

fn group_readable() -> bool {
    GROUP_READABLE.load(std::sync::atomic::Ordering::Relaxed)
}

/// The mode of every file callqa writes.
pub fn file_mode() -> u32 {
    if group_readable() {
        0o640
    } else {
        0o600
    }
}

/// The mode of every folder callqa makes.
pub fn folder_mode() -> u32 {
    if group_readable() {
        0o750
    } else {
        0o700
    }
}

/// `create_dir_all` with callqa's folder mode for each folder it makes. The
/// mode is set after creation too: a process umask (077 on some hosts) would
/// otherwise take the group's read back from `--group-readable`.
pub fn create_dir_all(dir: impl AsRef<Path>) -> std::io::Result<()> {
    let dir = dir.as_ref();
    // the folders this call makes: from `dir` up to the first that exists
    let made: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, folder_mode());
    builder.create(dir)?;
    // (a folder another worker made meanwhile, and is not ours to change, keeps its mode)
    #[cfg(unix)]
    for folder in made {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(folder, std::fs::Permissions::from_mode(folder_mode()));
    }
    Ok(())
}

/// Gives `dir`, and every file and folder under it, callqa's modes: for
/// folders a library fills (the search index), whose files it creates itself.
pub fn set_modes(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    for entry in walkdir::WalkDir::new(dir) {
        use std::os::unix::fs::PermissionsExt;
        let entry = entry.map_err(std::io::Error::other)?;
        let mode = if entry.file_type().is_dir() {
            folder_mode()
        } else {
            file_mode()
        };
        match std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)) {
            // a file tantivy let go of meanwhile
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            other => other?,
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically (temp file + fsync + rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// Like [`write_atomic`], for writers that stream into the file.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    write(file.file())?;
    file.commit()
}

/// A file that appears at its path complete or not at all: written to a
/// hidden temp file beside it, renamed over the path by [`AtomicFile::commit`].
/// Dropped without a commit (an error, a full disk), the temp file is removed
/// and the old file, if any, stays.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    path: std::path::PathBuf,
}

impl AtomicFile {
    /// A temp file beside `path` (its folder made if need be).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_dir_all(dir)?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(
                ".{}.",
                path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
            ))
            .suffix(".tmp")
            .tempfile_in(dir)?;
        Ok(Self {
            tmp,
            path: path.to_path_buf(),
        })
    }

    /// The temp file, to write to.
    pub fn file(&mut self) -> &mut std::fs::File {
        self.tmp.as_file_mut()
    }

    /// Syncs the file, gives it callqa's mode and renames it over the path.
    pub fn commit(self) -> std::io::Result<()> {
        self.tmp.as_file().sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            self.tmp
                .as_file()
                .set_permissions(std::fs::Permissions::from_mode(file_mode()))?;
        }
        self.tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.parquet");
        write_atomic(&path, b"old").unwrap();
        let err = write_atomic_with(&path, |f| {
            f.write_all(b"half")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
