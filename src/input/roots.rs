//! Where this machine sees the recordings. A transcript records its audio's
//! path as `run` saw it, made absolute (so `examples` works from any folder
//! of the same machine). Another machine, or a pod that mounts the
//! recordings elsewhere, maps the recorded prefix to its own with
//! `--audio-root OLD=NEW`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

/// One mapping: recordings once under `recorded` are now under `here`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioRoot {
    /// The folder as `run` recorded it.
    pub recorded: PathBuf,
    /// The same folder as this machine sees it.
    pub here: PathBuf,
}

impl FromStr for AudioRoot {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (recorded, here) = text
            .split_once('=')
            .ok_or_else(|| format!("{text:?}: expected OLD=NEW (the folder as recorded, then as seen here)"))?;
        if recorded.is_empty() || here.is_empty() {
            return Err(format!(
                "{text:?}: both sides of OLD=NEW are folders, neither may be empty"
            ));
        }
        Ok(Self {
            recorded: PathBuf::from(recorded),
            here: PathBuf::from(here),
        })
    }
}

/// The mappings given on the command line; none: paths are used as recorded.
#[derive(Debug, Clone, Default)]
pub struct AudioRoots(Vec<AudioRoot>);

impl AudioRoots {
    /// These mappings; the longest `recorded` that covers a path wins.
    pub fn new(roots: Vec<AudioRoot>) -> Self {
        Self(roots)
    }

    /// Where a recorded audio path is on this machine: the mapping with the
    /// longest recorded prefix (whole path components, so `/a/b` does not
    /// map `/a/bc`) is applied; a path no mapping covers stays as recorded.
    pub fn locate(&self, recorded: &Path) -> PathBuf {
        self.0
            .iter()
            .filter_map(|root| Some((root, recorded.strip_prefix(&root.recorded).ok()?)))
            .max_by_key(|(root, _)| root.recorded.components().count())
            .map_or_else(|| recorded.to_path_buf(), |(root, rest)| root.here.join(rest))
    }

    /// What to say when a recording is not where it was looked for: the
    /// path as recorded and as looked for, and the option that maps it.
    pub fn not_found_hint(&self, recorded: &Path) -> String {
        let looked = self.locate(recorded);
        let folder = recorded
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mapped = if looked == recorded {
            String::new()
        } else {
            format!(" (recorded as {})", recorded.display())
        };
        format!(
            "{}: no such audio file on this machine{mapped}; if the recordings are elsewhere here, \
             say where with --audio-root {}=FOLDER",
            looked.display(),
            folder.display()
        )
    }
}

/// The path made absolute against the current folder, without resolving
/// links (a recording reached through a mount's link keeps that name).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(pairs: &[&str]) -> AudioRoots {
        AudioRoots::new(pairs.iter().map(|p| p.parse().unwrap()).collect())
    }

    #[test]
    fn the_longest_recorded_prefix_maps_whole_components() {
        let roots = roots(&[
            "/mnt/rec=/home/qa/rec",
            "/mnt/rec/2026=/archive/2026",
            "audio=/srv/audio",
        ]);
        assert_eq!(
            roots.locate(Path::new("/mnt/rec/a/E1.wav")),
            PathBuf::from("/home/qa/rec/a/E1.wav")
        );
        assert_eq!(
            roots.locate(Path::new("/mnt/rec/2026/E2.wav")),
            PathBuf::from("/archive/2026/E2.wav")
        );
        // a sibling whose name starts alike is not under the root
        assert_eq!(
            roots.locate(Path::new("/mnt/recX/E3.wav")),
            PathBuf::from("/mnt/recX/E3.wav")
        );
        // relative paths of older archives map by their own prefix
        assert_eq!(
            roots.locate(Path::new("audio/E4.mp3")),
            PathBuf::from("/srv/audio/E4.mp3")
        );
        assert_eq!(
            AudioRoots::default().locate(Path::new("x/y.wav")),
            PathBuf::from("x/y.wav")
        );
    }

    #[test]
    fn a_mapping_is_old_equals_new() {
        assert!("/a".parse::<AudioRoot>().unwrap_err().contains("OLD=NEW"));
        assert!("=/b".parse::<AudioRoot>().is_err());
        assert!("/a=".parse::<AudioRoot>().is_err());
        let root: AudioRoot = "/a=b=c".parse().unwrap();
        assert_eq!(root.here, PathBuf::from("b=c"), "only the first = splits");
    }

    #[test]
    fn a_missing_recording_says_how_to_map_it() {
        let hint = AudioRoots::default().not_found_hint(Path::new("/pods/rec/E1.wav"));
        assert!(hint.starts_with("/pods/rec/E1.wav: no such audio file"), "{hint}");
        assert!(hint.contains("--audio-root /pods/rec=FOLDER"), "{hint}");
        let hint = roots(&["/pods=/here"]).not_found_hint(Path::new("/pods/rec/E1.wav"));
        assert!(
            hint.starts_with("/here/rec/E1.wav: no such audio file on this machine (recorded as /pods/rec/E1.wav)"),
            "{hint}"
        );
    }
}
