//! Calls at risk of a complaint: the customer said so (投诉, 12315, 找你们领导:
//! the pack's risk categories), or their voice rose, louder and higher, against
//! their own start of the call. A manager's pointer, decided here once, with
//! its evidence; it costs the agent nothing unless the pack says it does
//! (`[risk] counts_against_agent`).
//!
//! The voice is held against itself, not against a norm: voices and lines
//! differ by more than anger raises them, the same voice on the same line
//! does not. Both level and pitch must rise: a louder line alone (the customer
//! moved the handset) or a higher pitch alone (a question) is not enough.

use serde::{Deserialize, Serialize};

use super::settings::RiskSettings;
use crate::lexicon::Hit;
use crate::transcript::{Segment, VoicePrint};

/// Whether a call is at risk, and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CallRisk {
    /// A risk phrase or a raised voice.
    pub at_risk: bool,
    /// How many risk phrases the customer said.
    pub phrases: u32,
    /// When the first was said (seconds from the start).
    pub first_phrase_s: Option<f64>,
    /// The customer's voice raised against their start, where it first was.
    pub raised_voice: Option<RaisedVoice>,
}

/// A stretch where the customer spoke louder and higher than at their start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RaisedVoice {
    /// Where the raised stretch starts (seconds from the start of the call).
    pub at_s: f64,
    /// How much louder than the start (dB) and how much higher (octaves),
    /// voiced-time weighted over the raised stretch.
    pub louder_db: f32,
    /// How much higher, in octaves.
    pub higher_octaves: f32,
}

/// The call's risk from the customer's risk phrases (hits the rules heard
/// from the customer) and the customer's segments, in time order.
pub fn assess(risk_phrases: &[&Hit], customer: &[&Segment], settings: &RiskSettings) -> CallRisk {
    let raised_voice = raised_voice(customer, settings);
    CallRisk {
        at_risk: !risk_phrases.is_empty() || raised_voice.is_some(),
        phrases: risk_phrases.len() as u32,
        first_phrase_s: risk_phrases.iter().map(|h| h.start_s).min_by(f64::total_cmp),
        raised_voice,
    }
}

/// The first run of consecutive printed segments after the customer's start
/// whose voice is raised on both counts, once it holds enough voiced speech.
fn raised_voice(customer: &[&Segment], settings: &RiskSettings) -> Option<RaisedVoice> {
    let prints: Vec<(f64, VoicePrint, f32)> = customer
        .iter()
        .filter_map(|s| {
            let voice = s.voice?;
            Some((s.start, voice, voice.level_db?))
        })
        .collect();
    // the start: the first segments up to the baseline's voiced seconds
    let mut taken = 0.0;
    let baseline_len = prints
        .iter()
        .take_while(|(_, v, _)| {
            let before = taken;
            taken += f64::from(v.voiced_s);
            before < settings.voice_baseline_s
        })
        .count();
    if taken < settings.voice_baseline_s || baseline_len == prints.len() {
        return None; // too little of the customer to know their start, or nothing after it
    }
    let weighted_median = |values: &mut Vec<(f32, f32)>| -> f32 {
        values.sort_by(|a, b| a.0.total_cmp(&b.0));
        let half = values.iter().map(|v| v.1).sum::<f32>() / 2.0;
        let mut seen = 0.0;
        for &(value, weight) in values.iter() {
            seen += weight;
            if seen >= half {
                return value;
            }
        }
        values.last().map_or(0.0, |v| v.0)
    };
    let start = &prints[..baseline_len];
    let level0 = weighted_median(&mut start.iter().map(|(_, v, l)| (*l, v.voiced_s)).collect());
    let pitch0 = weighted_median(&mut start.iter().map(|(_, v, _)| (v.pitch, v.voiced_s)).collect());
    let is_raised = |(_, v, l): &&(f64, VoicePrint, f32)| {
        f64::from(l - level0) >= settings.voice_louder_db
            && f64::from(v.pitch - pitch0) >= settings.voice_higher_octaves
    };
    let mut run: Vec<&(f64, VoicePrint, f32)> = Vec::new();
    for print in &prints[baseline_len..] {
        if !is_raised(&print) {
            run.clear();
            continue;
        }
        run.push(print);
        let voiced: f32 = run.iter().map(|(_, v, _)| v.voiced_s).sum();
        if f64::from(voiced) >= settings.voice_min_raised_s {
            let mean = |f: &dyn Fn(&(f64, VoicePrint, f32)) -> f32| {
                run.iter().map(|p| f(p) * p.1.voiced_s).sum::<f32>() / voiced
            };
            let round = |v: f32, per: f32| (v * per).round() / per;
            return Some(RaisedVoice {
                at_s: run[0].0,
                louder_db: round(mean(&|p| p.2 - level0), 10.0),
                higher_octaves: round(mean(&|p| p.1.pitch - pitch0), 100.0),
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::{HitVerdict, MatchKind, Role};
    use crate::transcript::Speaker;

    fn said(start: f64, pitch: f32, level_db: f32, voiced_s: f32) -> Segment {
        let mut s = Segment::new(Speaker::Customer, start, start + voiced_s as f64 + 0.5, "……");
        s.voice = Some(VoicePrint {
            pitch,
            voiced_s,
            level_db: Some(level_db),
        });
        s
    }

    fn assessed(segments: &[Segment]) -> CallRisk {
        assess(&[], &segments.iter().collect::<Vec<_>>(), &RiskSettings::default())
    }

    /// A customer who speaks calmly for a while: 8 s of voiced speech at
    /// pitch 0.8, level −30 dB, give or take what a voice wanders.
    fn calm_start() -> Vec<Segment> {
        vec![
            said(1.0, 0.78, -31.0, 2.0),
            said(5.0, 0.84, -29.0, 2.5),
            said(10.0, 0.80, -30.0, 2.0),
            said(15.0, 0.82, -30.5, 1.5),
        ]
    }

    #[test]
    fn a_voice_raised_louder_and_higher_against_its_own_start_is_at_risk() {
        let mut call = calm_start();
        call.push(said(20.0, 0.85, -29.0, 2.0)); // still calm
        call.push(said(25.0, 1.15, -22.0, 1.2)); // raised…
        call.push(said(28.0, 1.12, -23.0, 1.5)); // …and still: 2.7 s
        let risk = assessed(&call);
        assert!(risk.at_risk);
        let raised = risk.raised_voice.expect("raised");
        assert_eq!(raised.at_s, 25.0);
        assert!((6.0..9.0).contains(&raised.louder_db), "{raised:?}");
        assert!((0.28..0.36).contains(&raised.higher_octaves), "{raised:?}");
    }

    #[test]
    fn louder_or_higher_alone_or_too_briefly_is_not() {
        let cases: [(&str, Vec<Segment>); 4] = [
            ("louder only (the handset moved)", vec![said(25.0, 0.82, -20.0, 3.0)]),
            ("higher only (a question)", vec![said(25.0, 1.2, -30.0, 3.0)]),
            (
                "raised for a moment",
                vec![
                    said(25.0, 1.2, -20.0, 1.0),
                    said(28.0, 0.8, -30.0, 2.0),
                    said(31.0, 1.2, -20.0, 0.8),
                ],
            ),
            ("calm throughout", vec![said(25.0, 0.83, -29.5, 3.0)]),
        ];
        for (case, later) in cases {
            let mut call = calm_start();
            call.extend(later);
            assert_eq!(assessed(&call), CallRisk::default(), "{case}");
        }
        // a high, loud voice from its first word is that customer's own: no rise
        let loud_throughout: Vec<Segment> = (0..6).map(|i| said(i as f64 * 4.0, 1.2, -18.0, 2.0)).collect();
        assert!(!assessed(&loud_throughout).at_risk);
        // too little speech to know the customer's start, and prints of before levels were measured
        assert!(!assessed(&[said(1.0, 0.8, -30.0, 2.0), said(5.0, 1.3, -18.0, 3.0)]).at_risk);
        let mut unmeasured = calm_start();
        unmeasured.push(said(25.0, 1.2, -20.0, 3.0));
        for s in &mut unmeasured {
            s.voice.as_mut().unwrap().level_db = None;
        }
        assert!(!assessed(&unmeasured).at_risk);
    }

    #[test]
    fn a_risk_phrase_flags_the_call_with_when() {
        let hit = |start_s: f64| Hit {
            category: "risk".into(),
            role: Role::Risk,
            phrase_id: "risk.complain".into(),
            phrase: "投诉".into(),
            matched_text: "投诉".into(),
            speaker: Speaker::Customer,
            start_s,
            end_s: start_s + 0.5,
            kind: MatchKind::Exact,
            score: None,
            context: "我要投诉你".into(),
            verdict: HitVerdict::NOT_JUDGED,
        };
        let (late, early) = (hit(30.0), hit(12.5));
        let risk = assess(&[&late, &early], &[], &RiskSettings::default());
        assert_eq!(
            risk,
            CallRisk {
                at_risk: true,
                phrases: 2,
                first_phrase_s: Some(12.5),
                raised_voice: None
            }
        );
    }
}
