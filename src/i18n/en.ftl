### callqa's words for people, in English (`--lang en`).
### Every message here has its twin in zh-CN.ftl, with the same arguments:
### the test suite fails otherwise.

## How numbers, dates and lists are written

fmt-date = { $iso }
fmt-date-short = { $iso }
fmt-date-time = { $date } { $time }
fmt-hours = { $hours } h
fmt-minutes = { $minutes } min
fmt-seconds = { $seconds } s
fmt-list-separator = { ", " }
fmt-clause-separator = { "; " }
fmt-aside = { " " }({ $text })
unit-seconds = s

## Rules and categories: used where the pack gives no title in the reader's language

rule-greeting_missing = greeting missing
rule-greeting_late = greeting late
rule-closing_missing = closing missing
rule-hold_etiquette = hold etiquette
rule-forbidden_phrase = forbidden phrase
rule-nine_dont_phrase = nine-don't phrase
rule-first_response_late = first response late
rule-dead_air = dead air
rule-talk_over = talk-over
rule-speech_rate = speech rate
rule-hold_checkin = no check-in during hold
rule-customer_risk = customer complaint risk
rule-with-id = { $name } ({ $id })
category-greeting = greeting
category-closing = closing
category-nine_do = nine do's
category-nine_dont = nine don'ts
category-forbidden = forbidden phrases
category-hold_request = hold request
category-hold_return = hold return
category-hold_checkin = hold check-in
category-risk = complaint risk
category-system = system prompt
category-acoustic = timing and pace
category-search = search

## Verdicts, speakers, how a phrase was found

verdict-fail = fail
verdict-pass = pass
verdict-open = left open
speaker-agent = agent
speaker-customer = customer
speaker-unknown = unknown
speaker-system = system prompt
sound-music = hold music
sound-ringback = ringback tone
sound-busy = busy tone
sound-dtmf = key tone
match-exact = exact
match-tolerant = by sound
match-verified = verified by audio
match-uncertain = left open
found-exact = exact
found-tolerant = sounds like 「{ $phrase }」
found-verified-short = verified against the audio as 「{ $phrase }」
found-uncertain = 「{ $phrase }」 neither confirmed nor ruled out by the audio
not-counted-not_judged = not judged
not-counted-customers_words = the customer's words
not-counted-agents_words = the agent's words (a customer category)
not-counted-unknown_speaker_ignored = speaker unknown, ignored by the pack
not-counted-speaker_unsure = speakers told apart too unsurely
not-counted-uncertain = the audio neither confirmed nor ruled it out
not-counted-outside_window = outside the rule's window
not-counted-not_at_hold = no hold next to it
not-counted-later_greeting = a later greeting
not-counted-no_rule = watched, not scored
not-counted-risk_signal = a risk signal for managers, not against the agent
not-counted-overturned_by_review = a reviewer found the rule kept
not-counted-system_prompt = a recorded prompt, not a person
speakers-by-voice = mono: speakers told apart by voice, { $sure }% sure
speakers-not-told = mono: speakers not told apart
speakers-not-told-why = mono: speakers not told apart ({ $why })
score-per-char = { $score } per character
score-none = no score
risk-raised-voice = raised their voice from { $at } ({ $louder } dB, { $higher } octave against their start)
risk-raised-voice-cell = raised from { $at } ({ $louder } dB louder, { $higher } octave higher)
timing-first-response = first words after { $seconds }
timing-dead-air = { $seconds } of silence
timing-hold-checkin = { $seconds } without a check-in
timing-speech-rate = { $rate } characters a minute
red-line = RED LINE: { $rule }
none = None.
call-passed = passed
call-did-not-pass = did not pass
no-audio = no audio
audio-missing = audio missing
clip-missing = clip missing:
audio-path-missing = calls.parquet has no audio file for this call

## Table columns

col-agent = agent
col-call = call
col-calls = calls
col-day = day
col-score = score
col-time = time
col-category = category
col-phrase = phrase
col-said = said
col-counted = counted
col-around = around it
col-listen = listen
col-speaker = speaker
col-did-not-pass = did not pass
col-mean = mean
col-min = min
col-mean-score = mean score
col-min-score = min score
col-greeting = greeting
col-closing = closing
col-holds-ok = holds ok
col-hold-etiquette = hold etiquette
col-forbidden-per-call = forbidden/call
col-nine-dont-per-call = nine-don't/call
col-first-response = first response
col-talk-over-per-call = talk-over/call
col-at-risk-per-100 = at risk/100 calls
col-worst-call = worst call
col-failed-rules = failed rules
col-evidence = evidence
col-heard = heard
col-checked-for = checked for
col-score-per-char = score/char
col-left-open = left open
col-rule = rule
col-reviewed = reviewed
col-agreed = agreed
col-false-fails = false fails
col-false-passes = false passes
col-kappa = kappa
col-kappa-long = Cohen's kappa
col-machine = machine
col-reviewer = reviewer
col-verdict = verdict
col-note = note
col-your-verdict = your verdict
col-customer-said = the customer said
col-voice = voice
col-reason = reason
col-precision = precision
col-recall = recall
col-floor = floor

## The report (report.md, report.html) and the terminal summary

report-title = callqa report
report-written = written { $at }
personal-data-shown = Personal data shown (--show-pii): customers' phone, ID and card numbers, e-mail, names and addresses appear as they were said. Do not pass this report on.
report-headline = { $calls ->
        [one] 1 call
       *[other] { $calls } calls
    } ({ $audio } of audio): { $scored } scored, { $passed } passed, { $failed } did not pass ({ $red } over a red line), { $unprocessed } could not be processed.
report-headline-open = { " " }{ $calls } with a verdict left open (listen to the moments listed).
report-mono-all = { $calls ->
        [one] 1 mono call
       *[other] { $calls } mono calls
    } (one mixed channel): speakers told apart by voice in all.
report-mono-some = { $calls ->
        [one] 1 mono call
       *[other] { $calls } mono calls
    } (one mixed channel): speakers told apart by voice in { $by_voice }; in { $not_told } not, so their speech counted as the pack's unknown_speaker says.
report-md-where = Every call, hit and agent-day is in calls.parquet, hits.parquet and scorecards.parquet; charts and every agent's worst calls are in report.html.
report-pass-mark = Pass mark { $mark }. Every call, hit and agent-day is in calls.parquet, hits.parquet and scorecards.parquet.
report-agents = Agents
report-sort-hint = Click a column to sort; the address keeps the order (#sort=column or #sort=column-desc).
report-rules-failed = Rules failed most often
report-rule-calls = { $rule }: { $calls ->
        [one] 1 call
       *[other] { $calls } calls
    }
report-worst-calls = Worst calls
report-worst-calls-folder = Worst calls of the folder
report-worst-by-agent = Each agent's worst calls
report-all-passed = Every scored call passed.
report-failed-call = { $call } (agent { $agent }, score { $score }): { $rules }
report-red-line = { " " }— RED LINE: { $rules }
report-moments = Forbidden and nine-don't moments (for training), worst calls first
report-moments-page = Forbidden and nine-don't moments, worst calls first
report-moment = { $call } (agent { $agent }) at { $at }, { $category }: { $speaker } said 「{ $said }」 ({ $how }): …{ $context }…
report-non-talk = Not talk: the system's audio, ringing, hold music and silence
report-non-talk-line = { $calls } calls held system audio or tones: IVR before pick-up { $ivr }, ringing { $ringing }, hold music { $music }, announcements { $announcements }; silence after pick-up { $silence }. None of it is credited or charged to an agent.
report-prompts = Recorded prompts heard (add them to the pack with `callqa lexicon prompts`)
report-prompt = { $id }: 「{ $text }」, in { $calls } calls
report-open = Verdicts left open: listen to these moments
report-open-explained = The audio neither confirmed these phrases nor ruled them out. The rules they decide neither pass nor fail the call, and cost no points, until someone listens.
report-open-moment = { $call } (agent { $agent }) at { $at }: heard 「{ $heard }」, 「{ $phrase }」 neither confirmed nor ruled out by the audio ({ $score }); open: { $rules }
report-at-risk = Calls at risk of a complaint
report-at-risk-md = Calls at risk of a complaint ({ $calls ->
        [one] 1 call
       *[other] { $calls } calls
    }; for managers, not counted against agents)
report-at-risk-explained = { $calls ->
        [one] 1 call
       *[other] { $calls } calls
    } where the customer spoke of complaining, escalating or a refund, or raised their voice against their own start of the call. For managers to follow up: not counted against the agent.
report-risk-words = the customer said { $said } (first at { $at }: …{ $context }…)
report-risk-call = { $call } (agent { $agent }, score { $score }): { $why }
report-risk-call-day = { $call } (agent { $agent }, { $day }, score { $score }): { $why }
report-calibration = The machine against QA reviews
report-calibration-md = The machine against QA reviews ({ $calls } calls reviewed; their verdicts are the reviewers')
report-calibration-explained = { $calls } calls reviewed by QA staff: on those, the reviewers' verdicts stand (calls.parquet keeps the machine's, machine_score). How far each rule can be trusted:
report-reviewers = Reviewers against each other: { $rate } agreed, over { $pairs } verdicts given by two reviewers.
report-disputes = Verdicts the reviewers overturned
report-dispute = { $call } (agent { $agent }), { $rule }: machine { $machine }, { $reviewer } says { $human }
report-dispute-note = { $line }: “{ $note }”
report-unprocessed = Could not be processed
report-page-written = Report page: { $path } (open it in a browser)
report-whole = Whole report: { $md } and { $html }
more-calls-failed = …and { $n } more calls that did not pass.
more-moments = …and { $n } more moments.
more-moments-examples = …and { $n } more moments (callqa examples picks them by agent, day or phrase).
more-open = …and { $n } more (hits.parquet, match = uncertain).
more-at-risk = …and { $n } more (calls.parquet, at_risk).
report-voice-mismatch = Calls in another voice than their agent's
report-voice-mismatch-md = Calls in another voice than their agent's ({ $calls })
report-voice-mismatch-explained = The agent's voice on these calls is not the one enrolled for the agent id they were logged under (from that agent's stereo calls): a shared login, a mislabelled recording, or the agent's channel given wrong. Listen before acting: a cold or a new headset changes a voice too.
report-voice-mismatch-line = { $call } (agent { $agent }): voice similarity { $similarity } to the agent's print ({ $enrolled } calls)
more-voice-mismatch = …and { $n } more (calls.parquet, voice_mismatch).
col-voice-similarity = Voice similarity
col-enrolled-calls = Enrolled calls
more-disputes = …and { $n } more (reviews.parquet).
more-unprocessed = …and { $n } more (all in failures.json).
card-calls = { $n ->
        [one] call
       *[other] calls
    }
card-audio = of audio
card-passed = passed
card-did-not-pass = did not pass
card-red-line = over a red line
card-unprocessed = could not be processed
card-open = verdict left open
card-at-risk = at risk of a complaint
card-reviewed = reviewed by QA
chart-agents = Mean score per agent
chart-agents-some = Mean score per agent (the lowest { $shown } of { $agents })
chart-days = Score per day ({ $days ->
        [one] 1 day
       *[other] { $days } days
    } in the folder)
chart-rules = Rules failed most often (calls)
chart-axis-mean-score = mean score (line: pass mark)
chart-axis-calls = calls
chart-axis-day = score / % passed
chart-mean-score = mean score
chart-passed = % of calls passed
chart-pass-mark = pass mark
agent-unprocessed = (+{ $n } unprocessed)
agent-calls-failed = { $n ->
        [one] 1 call did not pass
       *[other] { $n } calls did not pass
    }
agent-worst-shown = { " " }(worst { $shown } shown)
evidence-greeting-at = greeting began at { $at }
evidence-no-greeting = no greeting heard
evidence-no-closing = no closing heard
summary-agent = { $agent } { $mean } ({ $calls ->
        [one] 1 call
       *[other] { $calls } calls
    })
summary-lowest = Lowest mean score ({ $agents } agents): { $names }
summary-rules = Rules failed most often (calls): { $rules }
summary-open = Verdicts left open ({ $calls } calls), listen to:
summary-at-risk = Calls at risk of a complaint ({ $calls }):
summary-agreed-rule = { $rule } { $agreed } of { $reviewed }
summary-reviewed = Reviewed by QA ({ $calls } calls); the machine agreed: { $rules }
summary-worst = Worst calls:

## A batch on the terminal (run, score, review import)

batch-shard = { " " }(shard { $shard })
batch-run = callqa run{ $shard }: { $calls } calls: { $transcribed } transcribed, { $reused } reused, { $failed } failed; { $audio } of audio in { $wall } ({ $speed }× real time, { $per_hour } calls/h)
batch-archive = { $out }: { $calls } calls ({ $audio }): { $scored } scored, { $passed } passed, { $failed } did not pass, { $unprocessed } could not be processed; { $hits } phrase hits
batch-scored-in = scored in { $wall }
batch-shard-worker = shard worker: transcripts and failures are in { $out }; `callqa score --out { $out }` builds the tables once every shard is done
batch-lowest = lowest mean scores: { $agents }
batch-outputs = tables: calls.parquet, hits.parquet, scorecards.parquet; report: report.md, report.html (in { $out })
run-shard-owns = shard { $shard }: { $calls } of the { $listed } calls listed are this worker's
run-found = { $source }: { $calls } calls to process, { $problems } unusable entries
run-skipped = { "  " }skipped { $location }: { $reason }
run-column-renamed = note: the manifest column "{ $column }" is also a column of calls.parquet: it is kept there as "{ $kept_as }"
run-jobs-capped = note: --jobs { $jobs } is more than the budget of { $threads } threads; using { $threads } (whisper threads spin: more than the budget only slows down)
run-transcribing = transcribing with { $model } and the { $vad } VAD, { $jobs } call(s) at once on { $threads } thread(s) ({ $source }); encoder matrices by { $matrices }
budget-source-threads = --threads
budget-source-slurm = SLURM_CPUS_PER_TASK
budget-source-cgroup = the container's CPU quota
budget-source-affinity = the CPU affinity mask
budget-source-machine = every core of the machine
run-prompts-learned = recorded prompts learned from this night's calls (audio heard alike in { $min } calls or more, in a voice not the agents'): { $n } ({ $ids }); their words are the system's, never an agent's
run-earlier-calls = { $calls } transcribed calls of earlier runs in { $out } are kept and scored with this night's: the output folder is an archive
run-items-failed = { $n } item(s) failed (listed above, in { $dir } and, once scored, in { $file })
run-no-vad = warning: no VAD model at { $path }: finding speech by energy, which is slower and misses more on noisy lines (scripts/setup.sh installs the VAD model)
run-no-voice-model = note: no voice encoder at { $path }: mono calls are told apart by pitch alone, and agents' voices are not enrolled (scripts/setup.sh installs it)
progress-template = {"{"}spinner{"}"} [{"{"}elapsed_precise{"}"}] {"{"}bar:30{"}"} {"{"}pos{"}"}/{"{"}len{"}"} calls · {"{"}msg{"}"} · ETA {"{"}eta{"}"}
progress-audio = { $hours } h audio
progress-reused = { $call }: done before, transcript reused
progress-call = { $call }: { $audio } s of audio in { $took } s ({ $speed }× real time), { $segments } segments
progress-failed = { $call }: FAILED: { $reason }
progress-failed-before = { $call }: FAILED (as before: the file, model and settings are unchanged; --retry-failed tries again): { $reason }
progress-finished = processed { $calls } calls, { $audio } of audio, in { $wall }

## Examples and their clip page, search

examples-title = callqa examples
examples-sub = { $n ->
        [one] 1 example
       *[other] { $n } examples
    }, worst call first · each clip is the moment with { $context } s either side, both channels
examples-none = No hit matched the filter.
examples-count = { $n ->
        [one] 1 example
       *[other] { $n } examples
    }
examples-clips-written = { $n } clips in { $dir } (open index.html in a browser to listen)
examples-said-verified = 「{ $heard }」 verified as 「{ $phrase }」
examples-said-open = 「{ $heard }」 open: 「{ $phrase }」?
examples-not-counted = no: { $why }
examples-counted = yes
clips-none = { $call }: no clips: { $why }
clips-no-audio-path = { $call }: no clips: calls.parquet has no audio file for this call
clips-pii-unknown = { $call }: calls.parquet does not say where personal data was said (scored with --show-pii, or by an older callqa): its clips keep every word; `callqa score` hides it
filter-phrase = phrase { $phrase }
filter-agent = agent { $agent }
filter-from = from { $day }
filter-to = to { $day }
filter-speakers = said by { $speakers }
filter-below = calls scoring below { $score }
filter-kind = { $kind } matches
search-building-index = search: building the search index of { $dir } from its transcripts
search-description = search: { $query }
search-found = { $n ->
        [one] 1 clause found
       *[other] { $n } clauses found
    }
search-limit-reached = { " " }(the limit: --limit N for more)

## Review: the page, sampling and importing

review-title = callqa review
review-picked = { $n ->
        [one] 1 call picked
       *[other] { $n } calls picked
    } { $how }
review-how-agents = over { $agents ->
        [one] 1 agent
       *[other] { $agents } agents
    }
review-how-per-agent = at most { $n } each
review-how-failed-first = calls that did not pass first
review-how-seed = seed { $seed }
review-how-to = For each rule: agree or disagree with the machine (a rule it left open: pass or fail), a note if you like, then Save: the CSV goes to
review-kept = . Your choices are kept in this browser until you save.
review-save = Save verdicts (CSV)
review-count = { $n ->
        [one] 1 verdict
       *[other] { $n } verdicts
    }
review-download-again = download again
review-agent = agent { $agent }
review-score = score { $score }
review-no-audio = no audio: { $why }
review-not-counted = (not counted: { $why })
review-agree = agree
review-disagree = disagree
review-transcript = transcript
review-imported = { $file }: { $read } verdicts read, { $added } new, { $already } already imported
review-not-scored = not scored (--no-score): `callqa score` applies them
review-no-transcript = { $call }: no transcript in { $dir }
review-page-written = { $n } calls to review: open { $page } in a browser; save the verdicts, then `callqa review import FILE.csv --out { $out } --by NAME`
lexicon-test-missing = { $call }: reviewed, but its transcript is no longer in the archive: left out
lexicon-test-head = { $pack } against { $calls } reviewed calls ({ $out }); floors: precision { $precision }, recall { $recall }, from { $reviews } reviews
lexicon-test-shortfall = { $measure } { $value } < { $floor }
lexicon-test-below = BELOW: { $why }
