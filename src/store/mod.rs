//! The output folder: its layout, the transcript archive and open failures,
//! and the three Parquet tables (schemas in one place). Files are written
//! through [`crate::files`], atomically.

mod archive;
mod out_dir;
mod tables;

pub use archive::{
    clear_failure, enrol_voices, find_transcript, list_transcripts, open_failures, read_failure, read_prompts,
    read_voiceprints, record_failure, record_input_problems, write_failure_list, write_prompts, TranscriptArchive,
};
pub use out_dir::{OutDir, UNDATED};
pub use tables::{
    extra_column_name, read_calls, read_scores, write_voiceprints, CallRecord, HitRecord, HitRow, ScoredTables,
    TableWriter, CALLS_SCHEMA, HITS_SCHEMA, SCORECARDS_SCHEMA,
};
pub(crate) use tables::{parquet_writer, read_columns};
