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
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// Let the owner's group read what callqa writes (files 0640, folders 0750).
    /// Without it (and without `[center] group_readable` in the pack) everything
    /// written is the owner's alone: 0600 and 0700. Transcripts, tables, reports
    /// and clips hold what customers said.
    #[arg(long, global = true, env = "CALLQA_GROUP_READABLE")]
    pub group_readable: bool,
    /// The language of what people read: report, summary, examples, clip and
    /// review pages, notes (zh: 简体中文, en: English). Default: the pack's
    /// `[center] language` (zh in the built-in pack); `callqa report` and
    /// `callqa examples` default to the language the folder's report was written in.
    /// Parquet columns and JSON keys are the same ids in either.
    #[arg(long, global = true, env = "CALLQA_LANG", value_enum)]
    pub lang: Option<crate::i18n::Lang>,
    /// Threads callqa computes on, all told (transcription and scoring). Default:
    /// the scheduler's allocation (SLURM_CPUS_PER_TASK, the container's CPU quota,
    /// the CPU affinity mask), else every core. `run` names it on its second line.
    #[arg(long, global = true, env = "CALLQA_THREADS", value_name = "N")]
    pub threads: Option<usize>,
}

/// callqa's subcommands, one file each in `cmd/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Transcribe a night's calls and score them: transcripts, calls/hits/scorecards Parquet, report.
    Run(RunArgs),
    /// Re-score saved transcripts (no audio, no model): rewrites the three tables and the report.
    Score(ScoreArgs),
    /// Summarise an output folder's QA report; write it as one HTML page with --html.
    Report(ReportArgs),
    /// Find the moments trainers teach from (forbidden phrases, nine don'ts by default),
    /// worst call first; --clips cuts an audio clip of each with a page to listen from.
    Examples(ExamplesArgs),
    /// Find anything anyone said: words and "quoted phrases" with AND, OR, NOT and
    /// A NEAR/10 B (within 10 seconds), newest call first; --clips cuts a clip of each.
    Search(SearchArgs),
    /// QA staff's verdicts: import a review sheet; reviewed verdicts overrule the machine's.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Work with lexicon packs.
    #[command(subcommand)]
    Lexicon(LexiconCommand),
    /// Work with whisper models.
    #[command(subcommand)]
    Model(ModelCommand),
}

/// `callqa run`: the nightly batch.
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
    /// The voice encoder (GE2E, converted by `callqa model import`), which tells
    /// the voices of mono calls apart and enrols each agent's voice from stereo
    /// calls. Default: ge2e-voice.safetensors beside the whisper model; if that is
    /// missing, mono calls are told apart by pitch alone.
    #[arg(long, env = "CALLQA_VOICE_MODEL")]
    pub voice_model: Option<PathBuf>,
    /// The lexicon pack to score with.
    #[command(flatten)]
    pub lexicons: LexiconArg,
    /// Calls decoded at once, within the thread budget (`--threads`): each call's
    /// chunks share the budget's threads, so `--jobs 1` is as fast per call.
    /// Default: one per thread of the budget.
    #[arg(long, short)]
    pub jobs: Option<usize>,
    /// whisper.cpp threads per chunk (measuring only: more than one is slower on
    /// every machine measured, README "Nightly at scale").
    #[arg(long, hide = true, default_value_t = 1)]
    pub threads_per_chunk: usize,
    /// Regex naming the parts of a file name, for folders without a manifest. Groups:
    /// agent_id (required), call_id (default: the file stem), date (YYYYMMDD), time (HHMMSS).
    #[arg(long, default_value = crate::input::DEFAULT_NAME_PATTERN)]
    pub name_pattern: String,
    /// Which channel is the agent, for files the manifest does not say.
    #[arg(long, default_value = "left")]
    pub agent_channel: AgentChannel,
    /// The center's time zone (IANA name, e.g. Asia/Shanghai): calls' days are
    /// taken on its clock, whatever the machine's. Default: the pack's
    /// `[center] time_zone` (Asia/Shanghai in the default pack).
    #[arg(long, env = "CALLQA_TIME_ZONE")]
    pub time_zone: Option<crate::input::CenterZone>,
    /// Time words by DTW alignment on whisper's attention heads instead of spreading
    /// each chunk's text over its voiced stretches: about 25% slower, and on the
    /// sample calls no more precise (turn starts 0.30 s off against 0.17 s).
    #[arg(long)]
    pub dtw_timing: bool,
    /// Do not check the phrases whisper nearly wrote against the audio (see
    /// `[verify]` in the lexicon pack): a little faster, and on phone lines
    /// the phrases whisper writes a sound or two off are lost.
    #[arg(long)]
    pub no_verify: bool,
    /// Leave customers' phone, ID and card numbers, e-mail, names and addresses
    /// in the report, hits.parquet's context and examples (by default they are
    /// redacted: 【手机号】…). The report then says so at its top.
    #[arg(long)]
    pub show_pii: bool,

    /// Transcribe again even when a transcript of the same audio, model and settings exists.
    #[arg(long)]
    pub force: bool,
    /// Try again the calls that failed before on the same audio, model and settings
    /// (by default such a call keeps its failure until its file changes).
    #[arg(long)]
    pub retry_failed: bool,
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
    /// What the batch prints.
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

/// The lexicon pack a command scores with (`--lexicons`).
#[derive(Debug, Args)]
pub struct LexiconArg {
    /// Lexicon pack folder. Default: the pack built into callqa (a copy of lexicons/).
    #[arg(long, env = "CALLQA_LEXICONS")]
    pub lexicons: Option<PathBuf>,
}

/// `callqa score`: the tables again from saved transcripts.
#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Output folder of an earlier `callqa run` (or of shard workers).
    #[arg(long, short)]
    pub out: PathBuf,
    /// The lexicon pack to score with.
    #[command(flatten)]
    pub lexicons: LexiconArg,
    /// What the batch prints.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Leave customers' phone, ID and card numbers, e-mail, names and addresses
    /// in the report, hits.parquet's context and examples (by default they are
    /// redacted: 【手机号】…). The report then says so at its top.
    #[arg(long)]
    pub show_pii: bool,
    /// Leave the search index (`callqa search`) as it is: score only.
    #[arg(long)]
    pub no_index: bool,
}

/// `callqa report`: an output folder's report, read again.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output folder of an earlier `callqa run` or `callqa score`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Print the scorecards as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Also write the report as one self-contained HTML page (charts, sortable agents
    /// table, each agent's worst calls); open it in any browser, no server needed.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// `callqa examples`: the moments trainers teach from.
#[derive(Debug, Args)]
pub struct ExamplesArgs {
    /// Output folder of an earlier `callqa run` or `callqa score`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Hit categories to list (repeatable, or comma-separated).
    #[arg(
        long = "category",
        visible_alias = "categories",
        value_name = "C",
        value_delimiter = ',',
        default_value = "forbidden,nine_dont"
    )]
    pub categories: Vec<String>,
    /// Only this phrase (its id in the lexicon pack, as in hits.parquet).
    #[arg(long, value_name = "ID")]
    pub phrase: Option<String>,
    /// Which calls.
    #[command(flatten)]
    pub calls: CallFilterArgs,
    /// Who said it (repeatable). Default: whoever's words counted in the
    /// verdicts (the agent's; a mono call's unknown speech when the pack
    /// counts it); naming a speaker lists their words whether they counted or not.
    #[arg(long, value_enum)]
    pub speaker: Vec<SpeakerArg>,
    /// Also the hits that did not count (the customer's words, grey audio
    /// checks, a closing long before the end…), each with why not.
    #[arg(long)]
    pub all: bool,
    /// Only calls scoring below this mark.
    #[arg(long, value_name = "N")]
    pub max_score: Option<f64>,
    /// Only matches of this kind: exact, tolerant (sounds like the phrase),
    /// verified (written a little off, confirmed against the audio), or
    /// uncertain (the audio neither confirmed nor ruled out the phrase: moments
    /// to listen to, never counted). Default: every kind but uncertain.
    #[arg(long = "match", value_enum)]
    pub match_kind: Option<MatchArg>,
    /// At most this many examples (the worst calls' first).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// What is printed on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ExampleFormat,
    /// Cut a WAV clip of each example into DIR (both channels, original rate), with
    /// DIR/index.html to listen from and DIR/index.csv.
    #[arg(long, value_name = "DIR")]
    pub clips: Option<PathBuf>,
    /// Seconds of audio kept before and after each hit in a clip.
    #[arg(long, default_value_t = 2.0)]
    pub context_s: f64,
    /// Where the recordings are now, for clips.
    #[command(flatten)]
    pub audio_roots: AudioRootArgs,
}

/// `callqa search`: what anyone said, across the archive.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Output folder of an earlier `callqa run` or `callqa score`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// What to find: words or "quoted phrases" (two characters or more), joined
    /// by AND (or nothing), OR, NOT, parentheses, and A NEAR/10 B (said within
    /// 10 seconds of each other). Example: 投诉 OR 12315
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Whose words (repeatable). Default: everyone's.
    #[arg(long, value_enum)]
    pub speaker: Vec<SpeakerArg>,
    /// Which calls.
    #[command(flatten)]
    pub calls: CallFilterArgs,
    /// exact: the characters (traditional, full-width and 您/你 alike); tolerant:
    /// the sounds, as the lexicons match (a word whisper wrote with homophones).
    #[arg(long = "match", value_enum, default_value = "exact")]
    pub match_kind: SearchMatch,
    /// Which calls first.
    #[arg(long, value_enum, default_value = "newest")]
    pub order: SearchOrder,
    /// At most this many clauses.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    /// What is printed on stdout.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ExampleFormat,
    /// Cut a WAV clip of each clause into DIR, with DIR/index.html to listen
    /// from and DIR/index.csv (the page `examples --clips` writes).
    #[arg(long, value_name = "DIR")]
    pub clips: Option<PathBuf>,
    /// Seconds of audio kept before and after each clause in a clip.
    #[arg(long, default_value_t = 2.0)]
    pub context_s: f64,
    /// Where the recordings are now, for clips.
    #[command(flatten)]
    pub audio_roots: AudioRootArgs,
    /// The lexicon pack whose tolerant matching `--match tolerant` borrows.
    #[command(flatten)]
    pub lexicons: LexiconArg,
    /// Show customers' phone, ID and card numbers as said (by default the
    /// clauses shown are redacted, as in the report).
    #[arg(long)]
    pub show_pii: bool,
}

/// How `callqa search` compares a query with what was said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchMatch {
    /// The characters, after normalisation.
    Exact,
    /// The sounds (pinyin with whisper's usual slips), as the lexicons match.
    Tolerant,
}

/// Which calls `callqa search` lists first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SearchOrder {
    /// The latest calls first.
    Newest,
    /// The lowest-scoring calls first (calls.parquet).
    Worst,
}

/// Which calls: one agent's, between two days (`examples`, `search`).
#[derive(Debug, Args)]
pub struct CallFilterArgs {
    /// Only this agent's calls.
    #[arg(long, value_name = "ID")]
    pub agent: Option<String>,
    /// Only calls on or after this day.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub from: Option<String>,
    /// Only calls on or before this day.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_day)]
    pub to: Option<String>,
}

/// Where this machine sees the recordings.
#[derive(Debug, Args)]
pub struct AudioRootArgs {
    /// The recordings are not where `run` saw them (another machine, another
    /// mount): OLD=NEW reads the recorded folder OLD as NEW here (repeatable;
    /// the longest OLD that covers a path wins).
    #[arg(long = "audio-root", value_name = "OLD=NEW")]
    pub audio_root: Vec<crate::input::AudioRoot>,
}

impl AudioRootArgs {
    /// The mapping the `--audio-root` options give.
    pub fn roots(&self) -> crate::input::AudioRoots {
        crate::input::AudioRoots::new(self.audio_root.clone())
    }
}

/// Whose words, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SpeakerArg {
    /// The agent's.
    Agent,
    /// The customer's.
    Customer,
    /// A mono call's speech whose speaker was not told.
    Unknown,
}

impl From<SpeakerArg> for crate::transcript::Speaker {
    fn from(s: SpeakerArg) -> Self {
        match s {
            SpeakerArg::Agent => Self::Agent,
            SpeakerArg::Customer => Self::Customer,
            SpeakerArg::Unknown => Self::Unknown,
        }
    }
}

/// How a hit was found, on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MatchArg {
    /// The phrase as written (after normalisation).
    Exact,
    /// A phrase that sounds like the lexicon's (whisper's homophones).
    Tolerant,
    /// Written a little off, confirmed against the audio.
    Verified,
    /// Neither confirmed nor ruled out by the audio: to listen to, never counted.
    Uncertain,
}

impl From<MatchArg> for crate::lexicon::MatchKind {
    fn from(m: MatchArg) -> Self {
        match m {
            MatchArg::Exact => Self::Exact,
            MatchArg::Tolerant => Self::Tolerant,
            MatchArg::Verified => Self::Verified,
            MatchArg::Uncertain => Self::Uncertain,
        }
    }
}

/// How `examples` and `search` print what they found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExampleFormat {
    /// A table to read.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array.
    Json,
}

fn parse_day(s: &str) -> Result<String, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(|d| d.format("%Y-%m-%d").to_string())
        .map_err(|_| format!("{s:?} is not a day as YYYY-MM-DD"))
}

/// `callqa review`: QA staff's verdicts in and out.
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Add a review sheet (CSV: call_id, rule, verdict pass/fail or agree/disagree
    /// with a machine column, note, reviewed_at) to the folder's reviews.parquet,
    /// then score again so the tables and report show it. A sheet with one bad
    /// line is refused whole; importing a sheet twice changes nothing.
    Import(ReviewImportArgs),
    /// Pick calls to review (spread over the agents, the same for the same seed)
    /// and write one review page: each call's audio, transcript and the machine's
    /// verdict per rule with its evidence, with controls to agree or disagree; the
    /// page saves the verdicts as a CSV for `review import`.
    Sample(ReviewSampleArgs),
}

/// `callqa review sample`: the calls to review and their page.
#[derive(Debug, Args)]
pub struct ReviewSampleArgs {
    /// Output folder of an earlier `callqa run` or `callqa score`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Calls to pick.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub n: usize,
    /// At most this many calls of one agent.
    #[arg(long, value_name = "K")]
    pub per_agent: Option<usize>,
    /// Each agent's calls that did not pass first.
    #[arg(long)]
    pub failed_first: bool,
    /// The same seed picks the same calls (hand two reviewers one sample).
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Where the page (index.html) and the calls' audio go.
    /// Default: the output folder's review/seed-S.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Where the recordings are now, for the page's audio.
    #[command(flatten)]
    pub audio_roots: AudioRootArgs,
    /// The lexicon pack (its rule names, its privacy settings).
    #[command(flatten)]
    pub lexicons: LexiconArg,
    /// Show customers' phone, ID and card numbers as said (by default the
    /// transcript is redacted and the audio plays a tone over them).
    #[arg(long)]
    pub show_pii: bool,
}

/// `callqa review import`: a review sheet into the folder's reviews.
#[derive(Debug, Args)]
pub struct ReviewImportArgs {
    /// The review sheet (CSV with a header row).
    pub file: PathBuf,
    /// Output folder of an earlier `callqa run` or `callqa score`.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Who reviewed (for lines without a reviewer column).
    #[arg(long, value_name = "NAME")]
    pub by: String,
    /// Only record the reviews; the next `callqa score` applies them.
    #[arg(long)]
    pub no_score: bool,
    /// The lexicon pack to score with.
    #[command(flatten)]
    pub lexicons: LexiconArg,
    /// What the import prints.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `callqa lexicon`: check or test a pack.
#[derive(Debug, Subcommand)]
pub enum LexiconCommand {
    /// Validate a pack: every mistake with its file and line.
    Check {
        /// Pack folder. Default: the built-in pack.
        dir: Option<PathBuf>,
    },
    /// Re-score the reviewed calls of an output folder with a pack (a changed
    /// one, before the night's run) and print each rule's precision and recall
    /// against the reviewers; exit 1 when a rule falls below the pack's
    /// `[review]` floors.
    Test {
        /// Output folder whose reviewed calls are scored again.
        #[arg(long, short)]
        out: PathBuf,
        /// The pack to test.
        #[command(flatten)]
        lexicons: LexiconArg,
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the recorded prompts an output folder's runs found in the calls'
    /// audio (their id, text, calls) and, with `--to`, add their words to a
    /// pack's system lexicon, so that a prompt is known by its words too.
    Prompts {
        /// Output folder whose `prompts/` library is listed.
        #[arg(long, short)]
        out: PathBuf,
        /// Pack folder whose `[categories.system]` phrase file gets one line
        /// per prompt not yet in it (the clauses no person's phrase holds).
        #[arg(long)]
        to: Option<PathBuf>,
    },
}

/// `callqa model`: make the model files whisper.cpp loads.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Convert a model to whisper.cpp's ggml format: a CTranslate2 (faster-whisper)
    /// whisper model folder, or the Silero VAD (silero_vad_16k.safetensors from the
    /// silero-vad wheel).
    Import {
        /// A CT2 folder (model.bin, tokenizer.json, config.json), the Silero VAD's
        /// .safetensors file, or resemblyzer's pretrained.pt (the voice encoder).
        source: PathBuf,
        /// Where the converted model goes.
        #[arg(long, short)]
        out: PathBuf,
        /// Weight type of whisper's large matrices: f16 (reference layout) or q8_0 (about
        /// half the size). The VAD's types are fixed by whisper.cpp.
        #[arg(long, default_value = "f16")]
        quantize: crate::model::WeightType,
    },
}
