//! The output folder as an archive that grows night after night: the
//! transcripts by day, and the open failures, one file per call.
//!
//! One file per call is what lets shard workers share a folder: each call
//! belongs to one worker, so no two processes ever write the same file, and
//! nobody rewrites a shared list. The tables are then built by whoever holds
//! the folder alone (`run` without shards, or `score`).

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::OutDir;
use crate::audio::landmarks::Prompt;
use crate::files::write_atomic;
use crate::input::FailedItem;
use crate::rules::voiceprints::{CallVoice, VoicePrintBook};
use crate::transcript::Transcript;

/// The transcripts of an archive, once per call, in a fixed order (day
/// folders by name, files by name; the flat files of older folders first),
/// read one folder at a time.
///
/// A call whose date was corrected between runs has a transcript under each
/// day: the newer file is the call's. Telling them apart takes one 16-byte
/// key per call (about 30 MB at a million calls), never the file names of the
/// whole archive, let alone the transcripts.
#[derive(Debug)]
pub struct TranscriptArchive {
    /// `transcripts/` itself, then its sub-folders by name.
    folders: Vec<PathBuf>,
    /// Hash of a file name → the folder holding the call's transcript.
    owner: HashMap<u128, u32>,
}

fn name_key(name: &OsStr) -> u128 {
    let hash = blake3::hash(name.as_encoded_bytes());
    u128::from_le_bytes(hash.as_bytes()[..16].try_into().expect("16 bytes"))
}

/// The transcript files of one folder (`.json`, not hidden: temp files of
/// writes in flight are hidden), and its sub-folders.
fn read_folder(dir: &Path) -> anyhow::Result<(Vec<OsString>, Vec<PathBuf>)> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    let (mut files, mut folders) = (Vec::new(), Vec::new());
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let name = entry.file_name();
        if name.as_encoded_bytes().starts_with(b".") {
            continue;
        }
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            folders.push(entry.path());
        } else if Path::new(&name).extension().is_some_and(|e| e == "json") {
            files.push(name);
        }
    }
    files.sort_unstable();
    folders.sort_unstable();
    Ok((files, folders))
}

impl TranscriptArchive {
    /// Lists the transcripts of `out` (an empty archive when there are none).
    pub fn open(out: &OutDir) -> anyhow::Result<Self> {
        let root = out.transcripts_dir();
        if !root.exists() {
            return Ok(Self {
                folders: Vec::new(),
                owner: HashMap::new(),
            });
        }
        let (flat, day_folders) = read_folder(&root)?;
        let mut folders = vec![root];
        folders.extend(day_folders);
        let mut owner: HashMap<u128, u32> = HashMap::new();
        for (index, folder) in folders.iter().enumerate() {
            let files = if index == 0 {
                flat.clone()
            } else {
                read_folder(folder)?.0
            };
            for name in files {
                let index = index as u32;
                match owner.entry(name_key(&name)) {
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(index);
                    }
                    std::collections::hash_map::Entry::Occupied(mut o) => {
                        let modified = |f: u32| {
                            std::fs::metadata(folders[f as usize].join(&name))
                                .and_then(|m| m.modified())
                                .ok()
                        };
                        if modified(index) >= modified(*o.get()) {
                            o.insert(index);
                        }
                    }
                }
            }
        }
        Ok(Self { folders, owner })
    }

    /// Whether the archive holds a transcript file of this name.
    pub fn holds(&self, file_name: &str) -> bool {
        self.owner.contains_key(&name_key(OsStr::new(file_name)))
    }

    /// How many calls have a transcript.
    pub fn len(&self) -> usize {
        self.owner.len()
    }

    /// No transcripts at all.
    pub fn is_empty(&self) -> bool {
        self.owner.is_empty()
    }

    /// Every call's transcript file, in order; one folder listed at a time.
    pub fn paths(&self) -> impl Iterator<Item = anyhow::Result<PathBuf>> + '_ {
        self.folders.iter().enumerate().flat_map(move |(index, folder)| {
            let listed = read_folder(folder).map(|(files, _)| files);
            let (files, error) = match listed {
                Ok(files) => (files, None),
                Err(e) => (Vec::new(), Some(Err(e))),
            };
            error.into_iter().chain(
                files
                    .into_iter()
                    .filter(move |name| self.owner.get(&name_key(name)) == Some(&(index as u32)))
                    .map(move |name| Ok(folder.join(name))),
            )
        })
    }
}

/// Every transcript in the archive as a list (see [`TranscriptArchive`] to
/// walk a large archive without holding the list).
pub fn list_transcripts(out: &OutDir) -> anyhow::Result<Vec<PathBuf>> {
    TranscriptArchive::open(out)?.paths().collect()
}

/// Notes that `item`'s latest attempt failed (replacing an older note).
pub fn record_failure(out: &OutDir, item: &FailedItem) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(item).expect("failures serialise");
    write_atomic(&out.failure(item.key()), &json)
}

/// Every prompt the folder's runs have learned (`prompts/*.json`), each
/// once: the same prompt learned by two shard workers is kept with the
/// most calls. A file that cannot be read is an error naming it.
pub fn read_prompts(out: &OutDir) -> anyhow::Result<Vec<Prompt>> {
    let files = json_files(&out.prompts_dir())?;
    let mut prompts: Vec<Prompt> = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let found: Vec<Prompt> = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a list of callqa prompts", path.display()))?;
        for prompt in found {
            // the same audio learned twice: keep the one heard in more calls
            let known = crate::audio::landmarks::PromptLibrary::of(prompts.clone());
            match known.find(&prompt.landmarks).first() {
                Some(same) => {
                    let i = prompts.iter().position(|p| p.id == same.id).expect("found in the list");
                    if prompt.calls > prompts[i].calls {
                        prompts[i] = prompt;
                    }
                }
                None => prompts.push(prompt),
            }
        }
    }
    Ok(prompts)
}

/// Writes what this writer (`all`, or a shard) knows of the prompts, replacing its own file.
pub fn write_prompts(out: &OutDir, writer: &str, prompts: &[Prompt]) -> std::io::Result<()> {
    let path = out.prompts_dir().join(format!("{writer}.json"));
    write_atomic(&path, &serde_json::to_vec(prompts).expect("prompts serialise"))
}

/// The JSON files of a folder of per-writer files, in name order (none when
/// the folder is not there yet).
fn json_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Ok(files)
}

/// Every agent voice enrolled in the output folder (`voiceprints/`, all writers').
pub fn read_voiceprints(out: &OutDir) -> anyhow::Result<VoicePrintBook> {
    let files = json_files(&out.voiceprints_dir())?;
    let mut calls: Vec<CallVoice> = Vec::new();
    for path in files {
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let found: Vec<CallVoice> = serde_json::from_slice(&bytes)
            .with_context(|| format!("{}: not a list of callqa voice prints", path.display()))?;
        calls.extend(found);
    }
    Ok(VoicePrintBook::of(calls))
}

/// Enrols the agent voices of this writer's stereo calls (`heard`): added
/// to what the writer enrolled before, each agent keeping their most recent
/// calls (`rules::voiceprints::ENROL_CALLS`).
pub fn enrol_voices(out: &OutDir, writer: &str, heard: &[&Transcript]) -> std::io::Result<()> {
    let path = out.voiceprints_dir().join(format!("{writer}.json"));
    let earlier: Vec<CallVoice> = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default();
    let new: Vec<CallVoice> = heard.iter().filter_map(|t| CallVoice::of(t)).collect();
    if new.is_empty() && earlier.is_empty() {
        return Ok(());
    }
    let book = VoicePrintBook::of(earlier.into_iter().chain(new));
    let calls: Vec<&CallVoice> = book.calls().collect();
    write_atomic(&path, &serde_json::to_vec(&calls).expect("voice prints serialise"))
}

/// The call's open failure, if its latest attempt failed (None when the
/// note cannot be read: the call is then simply tried again).
pub fn read_failure(out: &OutDir, call_id: &str) -> Option<FailedItem> {
    let bytes = std::fs::read(out.failure(call_id)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Replaces the input problems (entries that never became calls) of the
/// input this run read: `shard` names the part of it, None for all of it.
/// They belong to that reading: the next run's replaces them, so a fixed
/// manifest row or folder leaves no ghost behind.
pub fn record_input_problems(out: &OutDir, shard: Option<&str>, items: &[FailedItem]) -> std::io::Result<()> {
    let dir = out.input_problems_dir();
    crate::files::create_dir_all(&dir)?;
    let own = format!(
        "{}.json",
        shard.map_or("all".to_string(), |s| format!("shard-{}", s.replace('/', "-of-")))
    );
    for entry in std::fs::read_dir(&dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        // a whole reading replaces every part's; a part replaces its own and the whole's
        let stale = match shard {
            None => name.ends_with(".json"),
            Some(_) => name == own || name == "all.json",
        };
        if stale {
            std::fs::remove_file(dir.join(&*name))?;
        }
    }
    if items.is_empty() {
        return Ok(());
    }
    write_atomic(
        &dir.join(own),
        &serde_json::to_vec_pretty(items).expect("failures serialise"),
    )
}

/// Notes that the call `key` went through: it is no longer an open failure.
pub fn clear_failure(out: &OutDir, key: &str) -> std::io::Result<()> {
    match std::fs::remove_file(out.failure(key)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Writes the open failures as one list (failures.json), for people and
/// scripts. From then on the folder is in this layout: `failures/` is the
/// truth even while empty, and failures.json is never adopted again.
pub fn write_failure_list(out: &OutDir, failures: &[FailedItem]) -> std::io::Result<()> {
    crate::files::create_dir_all(out.failures_dir())?;
    write_atomic(
        &out.failures(),
        &serde_json::to_vec_pretty(failures).expect("failures serialise"),
    )
}

/// The calls (and unusable input entries) whose latest attempt failed, over
/// every run into the folder, by key. A failure file that cannot be read is an
/// error naming it: dropping it would silently lose a call.
pub fn open_failures(out: &OutDir) -> anyhow::Result<Vec<FailedItem>> {
    adopt_failure_list(out)?;
    let dir = out.failures_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("listing {}", dir.display())),
    };
    let mut failures = Vec::new();
    for entry in entries {
        let path = entry.with_context(|| format!("listing {}", dir.display()))?.path();
        if path.extension().is_none_or(|e| e != "json")
            || path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let item: FailedItem = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{}: not a callqa failure record (delete it to drop the failure)",
                path.display()
            )
        })?;
        failures.push(item);
    }
    let input_dir = out.input_problems_dir();
    if let Ok(entries) = std::fs::read_dir(&input_dir) {
        for entry in entries {
            let path = entry
                .with_context(|| format!("listing {}", input_dir.display()))?
                .path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let items: Vec<FailedItem> = serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: not a list of callqa input problems", path.display()))?;
            failures.extend(items);
        }
    }
    failures.sort_by(|a, b| a.key().cmp(b.key()));
    Ok(failures)
}

/// Folders of earlier versions keep their open failures only in
/// failures.json: turn that list into one file per failure, once. The files
/// are made in a scratch folder renamed into place, so two workers starting
/// together adopt the list once, and a worker that already settled a call
/// never sees its failure come back.
fn adopt_failure_list(out: &OutDir) -> anyhow::Result<()> {
    let dir = out.failures_dir();
    if dir.exists() || !out.failures().exists() {
        return Ok(());
    }
    let list = out.failures();
    let bytes = std::fs::read(&list).with_context(|| format!("reading {}", list.display()))?;
    let items: Vec<FailedItem> =
        serde_json::from_slice(&bytes).with_context(|| format!("reading {}", list.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".failures.")
        .tempdir_in(out.root())
        .with_context(|| format!("writing in {}", out.root().display()))?;
    let staged = OutDir::new(scratch.path().join("staged"));
    crate::files::create_dir_all(staged.failures_dir())?;
    for item in &items {
        record_failure(&staged, item).with_context(|| format!("writing in {}", scratch.path().display()))?;
    }
    match std::fs::rename(staged.failures_dir(), &dir) {
        Ok(()) => Ok(()),
        Err(_) if dir.exists() => Ok(()), // another worker adopted it first
        Err(e) => Err(e).with_context(|| format!("creating {}", dir.display())),
    }
}

/// A call's transcript in the archive: under its day (`started_at` as
/// calls.parquet has it), or where an older callqa kept it; None when it is
/// in neither or cannot be read.
pub fn find_transcript(out: &OutDir, call_id: &str, started_at: Option<&str>) -> Option<Transcript> {
    [out.transcript(call_id, started_at), out.flat_transcript(call_id)]
        .iter()
        .find_map(|path| Transcript::read(path).ok())
        .filter(|t| t.call_id == call_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Transcript;

    fn touch(path: &Path, body: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }

    #[test]
    fn one_transcript_per_call_in_a_fixed_order_old_layout_included() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::new(dir.path());
        let t = out.transcripts_dir();
        touch(&t.join("2026-11-21/b.json"), "");
        touch(&t.join("2026-11-20/c.json"), "");
        touch(&t.join("legacy.json"), "");
        touch(&t.join("2026-11-20/.c.json.x.tmp"), "");
        touch(&t.join("2026-11-20/notes.txt"), "");
        // the same call under two days: the newer file wins, even in the
        // earlier folder (a date corrected backwards), so folder order cannot
        // be what decides
        touch(&t.join("2026-11-22/moved.json"), "old");
        std::thread::sleep(std::time::Duration::from_millis(20));
        touch(&t.join("2026-11-19/moved.json"), "new");
        let listed: Vec<String> = list_transcripts(&out)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&t).unwrap().display().to_string())
            .collect();
        assert_eq!(
            listed,
            [
                "legacy.json",
                "2026-11-19/moved.json",
                "2026-11-20/c.json",
                "2026-11-21/b.json",
            ]
        );
        assert!(list_transcripts(&OutDir::new(dir.path().join("none")))
            .unwrap()
            .is_empty());
    }

    fn failed(key: &str) -> FailedItem {
        FailedItem {
            location: format!("{key}.wav"),
            call_id: Some(key.into()),
            agent_id: Some("A1".into()),
            audio_path: None,
            started_at: None,
            extra: Default::default(),
            reason: "empty file".into(),
            ..FailedItem::default()
        }
    }

    #[test]
    fn failures_are_opened_replaced_and_settled_per_call() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::new(dir.path());
        record_failure(&out, &failed("b")).unwrap();
        record_failure(&out, &failed("a/x")).unwrap();
        let mut again = failed("b");
        again.reason = "truncated".into();
        record_failure(&out, &again).unwrap();
        let open = open_failures(&out).unwrap();
        assert_eq!(open.iter().map(|f| f.key()).collect::<Vec<_>>(), ["a/x", "b"]);
        assert_eq!(open[1].reason, "truncated");
        clear_failure(&out, "b").unwrap();
        clear_failure(&out, "never-failed").unwrap();
        assert_eq!(open_failures(&out).unwrap().len(), 1);
        std::fs::write(out.failure("bad"), "{").unwrap();
        let err = format!("{:#}", open_failures(&out).unwrap_err());
        assert!(err.contains("bad.json"), "{err}");
    }

    #[test]
    fn an_older_folders_failure_list_is_adopted_once() {
        let dir = tempfile::tempdir().unwrap();
        let out = OutDir::new(dir.path());
        let list = serde_json::to_vec(&[failed("x"), failed("y")]).unwrap();
        std::fs::write(out.failures(), list).unwrap();
        assert_eq!(open_failures(&out).unwrap().len(), 2);
        clear_failure(&out, "x").unwrap();
        // failures.json is stale until the tables are written again: not read twice
        assert_eq!(
            open_failures(&out).unwrap().iter().map(|f| f.key()).collect::<Vec<_>>(),
            ["y"]
        );
        assert_eq!(Transcript::file_name("y"), "y.json");
    }
}
