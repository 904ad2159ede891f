//! `kiln test [PATTERNS]`: run tests; passing results are cached.

use plumbing::output::{Human, Output};
use serde::Serialize;

use super::{Context, patterns};
use crate::error::{Result, bad_input};
use crate::exec::{TestResult, TestStatus};

#[derive(clap::Args)]
#[command(after_help = "Examples:
  kiln test                       every test (//...)
  kiln test //tools/...           the tests under tools/
  kiln test --json                one JSON object: each test, its status, its log

Exit codes: 0 every test passed, 1 a test failed or timed out (its log's tail is
printed), 2 bad input (no test matches), 3 the environment.")]
pub struct Args {
    /// Labels or patterns; default //...
    pub patterns: Vec<String>,
}

#[derive(Serialize)]
pub struct Row {
    pub label: String,
    pub status: &'static str,
    pub cached: bool,
    pub seconds: f64,
    pub log: std::path::PathBuf,
    #[serde(skip)]
    tail: String,
}

#[derive(Serialize)]
pub struct Report {
    pub tests: Vec<Row>,
    pub passed: usize,
    #[serde(rename = "failed_tests")]
    pub failed: usize,
    #[serde(skip)]
    failure: Option<anyhow::Error>,
}

impl Output for Report {
    /// New results were recorded (a test ran rather than came from the cache).
    fn changed(&self) -> bool {
        self.tests.iter().any(|t| !t.cached)
    }

    fn human(&self, out: &mut Human) {
        for t in &self.tests {
            match (t.status, t.cached) {
                ("passed", true) => out.result(format!("{}  (cached) PASSED", t.label)),
                ("passed", false) => out.result(format!(
                    "{}  PASSED in {}",
                    t.label,
                    crate::engine::secs(std::time::Duration::from_secs_f64(t.seconds))
                )),
                (status, _) => {
                    let what = if status == "timed_out" {
                        "TIMEOUT"
                    } else {
                        "FAILED"
                    };
                    out.result(format!(
                        "{}  {what} in {} (log: {})",
                        t.label,
                        crate::engine::secs(std::time::Duration::from_secs_f64(t.seconds)),
                        t.log.display()
                    ));
                    out.raw(&t.tail);
                }
            }
        }
        out.status(format!(
            "kiln: {} test{}: {} passed, {} failed",
            self.tests.len(),
            super::plural(self.tests.len()),
            self.passed,
            self.failed
        ));
    }

    fn failures(&self) -> Vec<&anyhow::Error> {
        self.failure.iter().collect()
    }
}

fn row(t: &TestResult) -> Row {
    Row {
        label: t.label.to_string(),
        status: match t.status {
            TestStatus::Passed => "passed",
            TestStatus::Failed => "failed",
            TestStatus::TimedOut => "timed_out",
        },
        cached: t.cached,
        seconds: t.elapsed.as_secs_f64(),
        log: t.log.clone(),
        tail: t.tail.clone(),
    }
}

pub fn run(ctx: &Context, args: Args) -> Result<Report> {
    let session = ctx.session(ctx.workspace()?)?;
    let tests: Vec<_> = session
        .graph
        .expand(&patterns(&args.patterns))?
        .into_iter()
        .filter(|l| {
            matches!(
                session.graph.target(l).map(|(_, t)| &t.kind),
                Some(rules::TargetKind::Test(_) | rules::TargetKind::PyTest(..))
            )
        })
        .collect();
    if tests.is_empty() {
        return Err(bad_input("the patterns match no test targets"));
    }
    let outcome = session.run(&tests, true)?;
    let rows: Vec<Row> = outcome.tests.iter().map(row).collect();
    let failed = rows.iter().filter(|t| t.status != "passed").count();
    Ok(Report {
        passed: rows.len() - failed,
        failed,
        failure: (failed > 0).then(|| {
            crate::error::failed(format!("{failed} test{} failed", super::plural(failed)))
        }),
        tests: rows,
    })
}
