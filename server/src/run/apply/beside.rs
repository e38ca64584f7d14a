//! What runs beside an apply on the command line: Ctrl-C or SIGTERM as a clean stop (a
//! second one leaves at once), and on a terminal a progress bar.

use super::run_target;
use bucket::Progress;
use prune::Checked;
use std::io::IsTerminal;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What runs beside an apply: Ctrl-C or SIGTERM stopping it, and on a terminal (without
/// `--json`) a progress bar.
pub(super) struct Watch {
    pub(super) progress: Arc<Progress>,
    stopper: tokio::task::JoinHandle<()>,
    bar: Option<indicatif::ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl Watch {
    /// Starts the signal handler, and the bar when stderr is a terminal.
    pub(super) fn start(checked: &Checked, json: bool) -> Watch {
        let progress = Arc::new(Progress::default());
        let stopper = tokio::spawn(stop_on_signal(progress.clone(), run_target(checked)));
        let bar = (!json && std::io::stderr().is_terminal()).then(|| progress_bar(checked));
        let n = checked.doomed().len();
        let ticker = bar
            .clone()
            .map(|bar| tokio::spawn(tick(bar, progress.clone(), n)));
        Watch {
            progress,
            stopper,
            bar,
            ticker,
        }
    }

    /// The apply is over: stop listening for signals, and clear the bar.
    pub(super) fn stop(self) {
        self.stopper.abort();
        if let Some(t) = self.ticker {
            t.abort();
        }
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// SIGINT or SIGTERM: no new deletions, the requests in flight finish, the record is written.
/// A second signal leaves at once, exit 130, saying so (the record then stays `started`).
async fn stop_on_signal(progress: Arc<Progress>, target: String) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        eprintln!("\nStopping: no new deletions; waiting for the requests in flight (again to quit at once).");
        progress.request_stop();
        tokio::select! { _ = int.recv() => {}, _ = term.recv() => {} }
        eprintln!(
            "\nQuitting: the run was left at once, its requests in flight abandoned. Its record \
             stays 'started': `s3-prune history {target}` shows it, `s3-prune restore {target} \
             --run ID` undoes it on a versioned bucket, and applying again finishes the job."
        );
        std::process::exit(130);
    }
    #[cfg(not(unix))]
    {
        let _ = target;
        if tokio::signal::ctrl_c().await.is_ok() {
            progress.request_stop();
        }
    }
}

fn progress_bar(checked: &Checked) -> indicatif::ProgressBar {
    let p = checked.planned();
    let total = p.versions_to_purge.unwrap_or(p.plan.summary.delete.objects);
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} objects, {msg} [{elapsed}]")
            .expect("static template"),
    );
    bar
}

async fn tick(bar: indicatif::ProgressBar, progress: Arc<Progress>, n: usize) {
    loop {
        bar.set_position(progress.objects_done.load(Ordering::Relaxed));
        let done = progress.deployments_done.load(Ordering::Relaxed);
        bar.set_message(format!("{done}/{n} deployments"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
