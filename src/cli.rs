//! The command line, and nothing else: each subcommand's work lives in `cmd/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::transcript::AgentChannel;

/// Offline speech-analytics QA for call centers.
///
/// Exit status: 0 all went well; 1 the batch finished but some items failed
/// (each is reported, with its reason); 2 nothing could be done (bad arguments,
/// missing model, broken lexicon pack).
#[derive(Debug, Parser)]
#[command(name = "callqa", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transcribe a night's calls and score them: transcripts, calls/hits/scorecards Parquet, report.
    Run(RunArgs),
    /// Re-score saved transcripts (no audio, no model): rewrites the three tables and the report.
    Score(ScoreArgs),
    /// Print the readable QA report of an output folder.
    Report(ReportArgs),
    /// Cut audio clips of bad moments (forbidden phrases, nine don'ts) for training.
    Examples(ExamplesArgs),
    /// Work with lexicon packs.
    #[command(subcommand)]
    Lexicon(LexiconCommand),
    /// Work with whisper models.
    #[command(subcommand)]
    Model(ModelCommand),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A folder of recordings (searched recursively; a manifest.csv or manifest.jsonl at
    /// its top is used if present), a manifest file (.csv or .jsonl), or one audio file.
    pub input: PathBuf,
    /// Output folder.
    #[arg(long, short)]
    pub out: PathBuf,
    /// whisper.cpp ggml model (any size, f16 or quantized).
    #[arg(long, env = "CALLQA_MODEL", default_value = "models/ggml-base-q8_0.bin")]
    pub model: PathBuf,
    /// whisper.cpp Silero VAD model, which finds the speech whisper hears. Default:
    /// ggml-silero-vad.bin beside the whisper model; if that is missing, the energy
    /// VAD is used instead (fine on clean lines, slower and worse on noisy ones).
    #[arg(long, env = "CALLQA_VAD_MODEL")]
    pub vad_model: Option<PathBuf>,
    /// Find speech by energy, even when a VAD model is there.
    #[arg(long, conflicts_with = "vad_model")]
    pub energy_vad: bool,
    #[command(flatten)]
    pub lexicons: LexiconArg,
    /// Calls decoded at once. Default: one per core.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// Regex naming the parts of a file name, for folders without a manifest. Groups:
    /// agent_id (required), call_id (default: the file stem), date (YYYYMMDD), time (HHMMSS).
    #[arg(long, default_value = crate::input::DEFAULT_NAME_PATTERN)]
    pub name_pattern: String,
    /// Which channel is the agent, for files the manifest does not say.
    #[arg(long, default_value = "left")]
    pub agent_channel: AgentChannel,
    /// Time words by DTW alignment on whisper's attention heads instead of spreading
    /// each chunk's text over its voiced stretches: about 25% slower, and on the
    /// sample calls no more precise (turn starts 0.30 s off against 0.17 s).
    #[arg(long)]
    pub dtw_timing: bool,
    /// Transcribe again even when a transcript of the same audio, model and settings exists.
    #[arg(long)]
    pub force: bool,
    /// Plain log lines instead of a progress bar (automatic when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Take only shard I of N of the calls (I counted from 0; by a stable hash of the
    /// call id), as one of N workers sharing the output folder. Workers write
    /// transcripts and failures only; `callqa score --out DIR` then builds the tables.
    /// Default: from a Kubernetes Indexed Job (JOB_COMPLETION_INDEX, JOB_COMPLETIONS)
    /// or a Slurm array (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::shard::Shard>,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What a batch command prints.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print the end-of-run summary as one JSON object on stdout (for scripts and cron).
    #[arg(long)]
    pub json: bool,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct LexiconArg {
    /// Lexicon pack folder. Default: the pack built into callqa (a copy of lexicons/).
    #[arg(long, env = "CALLQA_LEXICONS")]
    pub lexicons: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Output folder of an earlier `callqa run` (or of shard workers).
    #[arg(long, short)]
    pub out: PathBuf,
    #[command(flatten)]
    pub lexicons: LexiconArg,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(long, short)]
    pub out: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExamplesArgs {
    #[arg(long, short)]
    pub out: PathBuf,
    /// Categories to cut clips for.
    #[arg(long, value_delimiter = ',', default_value = "forbidden,nine_dont")]
    pub categories: Vec<String>,
    /// Seconds of audio kept before and after each hit.
    #[arg(long, default_value_t = 2.0)]
    pub context_s: f64,
}

#[derive(Debug, Subcommand)]
pub enum LexiconCommand {
    /// Validate a pack: every mistake with its file and line.
    Check {
        /// Pack folder. Default: the built-in pack.
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Convert a model to whisper.cpp's ggml format: a CTranslate2 (faster-whisper)
    /// whisper model folder, or the Silero VAD (silero_vad_16k.safetensors from the
    /// silero-vad wheel).
    Import {
        /// A CT2 folder (model.bin, tokenizer.json, config.json) or a .safetensors file.
        source: PathBuf,
        #[arg(long, short)]
        out: PathBuf,
        /// Weight type of whisper's large matrices: f16 (reference layout) or q8_0 (about
        /// half the size). The VAD's types are fixed by whisper.cpp.
        #[arg(long, default_value = "f16")]
        quantize: crate::model::WeightType,
    },
}
