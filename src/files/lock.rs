//! One writer per output folder.
//!
//! `run` and `score` hold an exclusive lock on the folder while they work;
//! shard workers (`run --shard`) share it among themselves, so that `score`,
//! which rewrites the tables from everything, waits for none of them and runs
//! alone. The lock is the operating system's (`flock` on Unix), tied to the
//! open file: a killed process never leaves a stale lock, and the lock file
//! itself only says who held it last.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the folder it locks.
pub const LOCK_FILE: &str = ".callqa.lock";

/// Who may share the folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Alone: `run` without shards, `score`.
    Exclusive,
    /// With other shard workers, but never with an exclusive holder.
    Shared,
}

/// Why the output folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another callqa holds it (a second night's run, or `score` while workers write).
    #[error("{folder} is in use by another callqa ({holder}); it stays locked until that process ends (a killed process leaves no lock behind)")]
    Held {
        /// The output folder.
        folder: PathBuf,
        /// Who holds the lock (host, process, since when).
        holder: String,
    },
    /// The lock file could not be made.
    #[error("cannot write to the output folder {folder}: {source}")]
    Unwritable {
        /// The output folder.
        folder: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// Held until dropped (or the process ends, however it ends).
#[derive(Debug)]
pub struct FolderLock {
    _file: File,
}

/// Locks the folder `root` (creating it) without waiting: a second process
/// refuses at once. `holder` says what this process is doing, for the message
/// a refused one shows.
pub fn lock_folder(root: &Path, mode: LockMode, holder: &str) -> Result<FolderLock, LockError> {
    let unwritable = |source| LockError::Unwritable {
        folder: root.to_path_buf(),
        source,
    };
    super::create_dir_all(root).map_err(unwritable)?;
    // a folder made by an older callqa (or by hand) is made the owner's too;
    // one that is not ours to change keeps its mode
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(root, std::fs::Permissions::from_mode(super::folder_mode()));
    }
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, super::file_mode());
    let mut file = options
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(root.join(LOCK_FILE))
        .map_err(unwritable)?;
    // as every file callqa writes, whatever the umask (one made by someone else keeps its mode)
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = file.set_permissions(std::fs::Permissions::from_mode(super::file_mode()));
    }
    let locked = match mode {
        LockMode::Exclusive => file.try_lock(),
        LockMode::Shared => file.try_lock_shared(),
    };
    match locked {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(LockError::Held {
                folder: root.to_path_buf(),
                holder: if holder.is_empty() {
                    "a process that has not said who it is yet".to_string()
                } else {
                    holder.to_string()
                },
            });
        }
        Err(TryLockError::Error(e)) => return Err(unwritable(e)),
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let since = chrono::Local::now().format("%Y-%m-%d %H:%M:%S");
    let who = format!(
        "{holder}, pid {} on {}, since {since}\n",
        std::process::id(),
        host.trim()
    );
    let _ = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(who.as_bytes()));
    Ok(FolderLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_everyone_shared_only_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let held = lock_folder(&out, LockMode::Exclusive, "callqa score").unwrap();
        let refused = lock_folder(&out, LockMode::Exclusive, "callqa run").unwrap_err();
        let message = refused.to_string();
        assert!(message.contains("callqa score"), "{message}");
        assert!(message.contains(&format!("pid {}", std::process::id())), "{message}");
        assert!(lock_folder(&out, LockMode::Shared, "shard").is_err());
        drop(held);
        let shard_a = lock_folder(&out, LockMode::Shared, "shard 1/2").unwrap();
        let _shard_b = lock_folder(&out, LockMode::Shared, "shard 2/2").unwrap();
        assert!(lock_folder(&out, LockMode::Exclusive, "callqa score").is_err());
        drop(shard_a);
    }
}
