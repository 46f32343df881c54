//! The report's charts, drawn in Rust as SVG (plotters) so the page needs
//! no script library and no network. Text in them (agent ids) is escaped by
//! plotters' SVG backend.

use plotters::prelude::*;

use super::{DayFigures, RuleCount};
use crate::i18n::Messages;
use crate::rules::Scorecard;

/// Agents drawn in the score chart: the lowest, so the ones to talk to are never cut off.
pub const AGENTS_CHARTED: usize = 30;
const WIDTH: u32 = 900;
const BAR_PX: u32 = 22;
const PASS: RGBColor = RGBColor(46, 125, 50);
const FAIL: RGBColor = RGBColor(198, 40, 40);
const NEUTRAL: RGBColor = RGBColor(33, 102, 172);

type DrawResult<T> = Result<T, String>;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Pixels a label needs, counting wide (CJK) characters double.
fn label_px(labels: &[String]) -> u32 {
    let widest = labels
        .iter()
        .map(|l| l.chars().map(|c| if c.is_ascii() { 7 } else { 13 }).sum::<u32>())
        .max()
        .unwrap_or(0);
    (widest + 14).clamp(60, 240)
}

/// Horizontal bars, one per label, with the value at the end of each bar.
fn bars(
    bars: &[(String, f64)],
    x_max: f64,
    x_ticks: usize,
    x_desc: &str,
    color_of: impl Fn(f64) -> RGBColor,
    marker: Option<f64>,
) -> DrawResult<String> {
    let labels: Vec<String> = bars.iter().map(|(l, _)| l.clone()).collect();
    let n = bars.len().max(1);
    let height = 50 + BAR_PX * n as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .margin(10)
            .x_label_area_size(34)
            .y_label_area_size(label_px(&labels))
            .build_cartesian_2d(0f64..x_max, (0..n).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .x_desc(x_desc)
            .x_labels(x_ticks)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(
                Histogram::horizontal(&chart)
                    .style_func(|_, value| color_of(*value).filled())
                    .margin(4)
                    .data(bars.iter().enumerate().map(|(i, (_, v))| (i, *v))),
            )
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
                Text::new(
                    format!("{v:.1}").trim_end_matches(".0").to_string(),
                    (*v + x_max * 0.01, SegmentValue::CenterOf(i)),
                    ("sans-serif", 12).into_font().color(&BLACK),
                )
            }))
            .map_err(err)?;
        if let Some(x) = marker {
            chart
                .draw_series(LineSeries::new(
                    [(x, SegmentValue::Exact(0)), (x, SegmentValue::Last)],
                    BLACK.stroke_width(1),
                ))
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// Mean score of the lowest-scoring agents, bars red below the pass mark.
pub fn score_per_agent(m: &Messages, agents: &[&Scorecard], pass_mark: f64) -> DrawResult<String> {
    let data: Vec<(String, f64)> = agents
        .iter()
        .take(AGENTS_CHARTED)
        .filter_map(|a| Some((a.agent_id.clone(), a.mean_score?)))
        .collect();
    bars(
        &data,
        105.0,
        11,
        &m.text("chart-axis-mean-score"),
        |v| if v < pass_mark { FAIL } else { PASS },
        Some(pass_mark),
    )
}

/// Calls that failed each rule, most often first.
pub fn rules_failed(m: &Messages, rules: &[RuleCount]) -> DrawResult<String> {
    let data: Vec<(String, f64)> = rules.iter().map(|r| (r.rule.clone(), f64::from(r.calls))).collect();
    let top = data.iter().map(|(_, v)| *v).fold(1.0, f64::max);
    // whole numbers only: a tick per call up to ten
    bars(
        &data,
        top * 1.15,
        (top as usize + 1).min(11),
        &m.text("chart-axis-calls"),
        |_| NEUTRAL,
        None,
    )
}

/// Mean score and pass rate per day, with the pass mark.
pub fn score_per_day(m: &Messages, days: &[DayFigures], pass_mark: f64) -> DrawResult<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let last = days.len().max(1) as f64 - 1.0;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5..last + 0.5, 0f64..105f64)
            .map_err(err)?;
        let label_every = days.len().div_ceil(10).max(1);
        chart
            .configure_mesh()
            .x_labels(days.len().clamp(1, 10))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                let i = i as usize;
                if !i.is_multiple_of(label_every) {
                    return String::new();
                }
                days.get(i).map(|d| m.short_date(&d.day)).unwrap_or_default()
            })
            .y_desc(m.text("chart-axis-day"))
            .y_labels(11)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(err)?;
        let mean: Vec<(f64, f64)> = days.iter().enumerate().map(|(i, d)| (i as f64, d.mean_score)).collect();
        let passed: Vec<(f64, f64)> = days
            .iter()
            .enumerate()
            .map(|(i, d)| (i as f64, 100.0 * f64::from(d.passed) / f64::from(d.calls.max(1))))
            .collect();
        chart
            .draw_series(LineSeries::new(mean.clone(), NEUTRAL.stroke_width(2)))
            .map_err(err)?
            .label(m.text("chart-mean-score"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], NEUTRAL.stroke_width(2)));
        chart
            .draw_series(mean.iter().map(|p| Circle::new(*p, 4, NEUTRAL.filled())))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(passed.clone(), PASS.stroke_width(2)))
            .map_err(err)?
            .label(m.text("chart-passed"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], PASS.stroke_width(2)));
        chart
            .draw_series(passed.iter().map(|p| Circle::new(*p, 3, PASS.filled())))
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(
                [(-0.5, pass_mark), (last + 0.5, pass_mark)],
                BLACK.mix(0.5).stroke_width(1),
            ))
            .map_err(err)?
            .label(m.text("chart-pass-mark"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 18, y)], BLACK.mix(0.5)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_in_a_chart_are_text_not_markup() {
        let card = Scorecard {
            agent_id: "<script>alert(1)</script>".into(),
            call_date: String::new(),
            calls: 3,
            failed_calls: 1,
            unprocessed_calls: 0,
            mean_score: Some(72.0),
            min_score: Some(60.0),
            greeting_rate: Some(1.0),
            closing_rate: Some(1.0),
            hold_etiquette_rate: None,
            forbidden_per_call: Some(0.3),
            nine_dont_per_call: Some(0.0),
            nine_do_per_call: Some(0.0),
            worst_call_id: Some("c1".into()),
            mean_first_response_s: Some(1.1),
            dead_air_per_call: Some(0.0),
            talk_over_per_call: None,
            ringing_s_per_call: None,
            hold_music_s_per_call: None,
            announcement_s_per_call: None,
            silence_s_per_call: None,
            uncertain_calls: 0,
            at_risk_calls: 0,
            at_risk_per_100: Some(0.0),
            reviewed_calls: 0,
        };
        let svg = score_per_agent(Messages::of(crate::i18n::Lang::Zh), &[&card], 80.0).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"), "{svg}");
    }

    #[test]
    fn one_day_draws_too() {
        let day = DayFigures {
            day: "2026-11-20".into(),
            calls: 4,
            passed: 3,
            mean_score: 81.5,
        };
        let (zh, en) = (Messages::of(crate::i18n::Lang::Zh), Messages::of(crate::i18n::Lang::En));
        let svg = score_per_day(en, std::slice::from_ref(&day), 80.0).unwrap();
        assert!(svg.contains("2026-11-20"), "{svg}");
        let svg = score_per_day(zh, &[day], 80.0).unwrap();
        assert!(svg.contains("11月20日"), "{svg}");
        assert!(svg.contains("平均分"), "the legend in Chinese: {svg}");
        assert!(score_per_day(zh, &[], 80.0).is_ok());
        assert!(rules_failed(zh, &[]).is_ok());
    }
}
