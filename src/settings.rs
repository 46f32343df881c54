//! Settings check themselves: each stage's settings type (the `[rules]`,
//! `[timing]`, `[verify]`… sections of pack.toml) says beside its definition
//! which of its numbers are out of range, through a [`Checks`] that records
//! each problem with the key it is at. The pack loader, above every stage,
//! turns each key into its line of pack.toml.
//!
//! A NaN deduction gives NaN scores, a negative cap adds points, a share of
//! 1.5 is no share: every such number is refused at its own line, so a broken
//! pack never scores calls.

/// A setting out of range: where (`section.key`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingProblem {
    /// The section (`rules`, `categories.greeting`…).
    pub section: String,
    /// The key inside it.
    pub key: String,
    /// What is wrong, for the person who edits the pack.
    pub message: String,
}

/// The problems of one pack's settings, section by section.
#[derive(Debug, Default)]
pub struct Checks {
    section: String,
    problems: Vec<SettingProblem>,
}

/// A settings type that knows its own ranges.
pub trait Validate {
    /// Records every value out of range in `checks` (at the section the
    /// caller set with [`Checks::in_section`]).
    fn validate(&self, checks: &mut Checks);
}

impl Checks {
    /// From now on, problems are in `section`.
    pub fn in_section(&mut self, section: &str) -> &mut Self {
        self.section = section.to_string();
        self
    }

    /// The section problems are recorded in now.
    pub fn section(&self) -> &str {
        &self.section
    }

    /// Records a problem at `key`; the message says `section.key` itself.
    pub fn problem(&mut self, key: &str, message: String) {
        self.problems.push(SettingProblem {
            section: self.section.clone(),
            key: key.to_string(),
            message,
        });
    }

    fn name(&self, key: &str) -> String {
        format!("{}.{key}", self.section)
    }

    /// A finite number ≥ 0 (seconds, points, characters per minute…).
    pub fn non_negative(&mut self, key: &str, value: f64) {
        if !(value.is_finite() && value >= 0.0) {
            let name = self.name(key);
            self.problem(key, format!("{name} must be a number ≥ 0, not {value}"));
        }
    }

    /// A finite number above 0.
    pub fn positive(&mut self, key: &str, value: f64, unit: &str) {
        if !(value.is_finite() && value > 0.0) {
            let name = self.name(key);
            self.problem(key, format!("{name} must be a number of {unit} above 0, not {value}"));
        }
    }

    /// A finite number from 0 to `max`.
    pub fn at_most(&mut self, key: &str, value: f64, max: f64) {
        if value.is_finite() && value > max {
            let name = self.name(key);
            self.problem(key, format!("{name} must be at most {max}, not {value}"));
        }
    }

    /// A share or probability: from 0 to 1.
    pub fn share(&mut self, key: &str, value: f64) {
        if !(value.is_finite() && (0.0..=1.0).contains(&value)) {
            let name = self.name(key);
            self.problem(key, format!("{name} must be between 0 and 1, not {value}"));
        }
    }

    /// A log-likelihood: finite, 0 or below.
    pub fn log_likelihood(&mut self, key: &str, value: f32) {
        if !(value.is_finite() && value <= 0.0) {
            let name = self.name(key);
            self.problem(key, format!("{name} is a log-likelihood: 0 or below, not {value}"));
        }
    }

    /// Any finite number.
    pub fn finite(&mut self, key: &str, value: f64) {
        if !value.is_finite() {
            let name = self.name(key);
            self.problem(key, format!("{name} must be a number, not {value}"));
        }
    }

    /// Every problem recorded, in the order found.
    pub fn into_problems(self) -> Vec<SettingProblem> {
        self.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_names_its_section_and_key() {
        let mut checks = Checks::default();
        checks.in_section("rubric").non_negative("hold_cap", -1.0);
        checks.in_section("verify").log_likelihood("likely_mean", 0.5);
        checks.share("near_budget_per_char", f64::NAN);
        checks.non_negative("fine", 3.0);
        let problems = checks.into_problems();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert_eq!(
            (problems[0].section.as_str(), problems[0].key.as_str()),
            ("rubric", "hold_cap")
        );
        assert!(problems[0].message.starts_with("rubric.hold_cap must be a number ≥ 0"));
        assert!(problems[1].message.contains("verify.likely_mean is a log-likelihood"));
        assert_eq!(problems[2].section, "verify");
    }
}
