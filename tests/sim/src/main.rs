//! `sim [SEEDS] [--from N] [--seed N] [--threads K] [--no-outages]
//! [--as-found]`: runs seeds and prints each violation with its seed, then
//! `sim: N seeds, M violations`. `--seed N` runs one seed and prints its
//! trace, then each violation with the part of the trace about it;
//! `--no-outages` leaves out the operator who disables and enables a
//! destination in some runs; `--as-found` leaves out the models added
//! after the first defects were found (a seed found then runs as it did);
//! `--no-ordered` leaves out the ordered destination.
use hookrelay_sim::{focus, run_seed_with, Options, Report};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn usage() -> ! {
    eprintln!("usage: sim [SEEDS] [--from N] [--seed N] [--threads K] [--no-outages] [--as-found] [--no-ordered]");
    std::process::exit(2);
}

fn number(value: Option<String>) -> u64 {
    value
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| usage())
}

fn print_violations(report: &Report) {
    for violation in &report.violations {
        println!("seed {}: {violation}", report.seed);
    }
}

fn main() {
    let mut seeds = 1_000u64;
    let mut from = 0u64;
    let mut one = None;
    let mut threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut options = Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seed" => one = Some(number(args.next())),
            "--from" => from = number(args.next()),
            "--threads" => threads = number(args.next()).max(1) as usize,
            "--no-outages" => options.outages = false,
            "--as-found" => options.later_models = false,
            "--no-ordered" => options.ordered = false,
            "-h" | "--help" => usage(),
            other => seeds = other.parse().unwrap_or_else(|_| usage()),
        }
    }
    if let Some(seed) = one {
        let report = run_seed_with(seed, true, options);
        for line in &report.trace {
            println!("{line}");
        }
        for violation in &report.violations {
            println!("\nseed {}: {violation}\nthe trace about it:", report.seed);
            for line in focus(&report.trace, violation) {
                println!("{line}");
            }
        }
        println!(
            "sim: 1 seeds, {} violations ({} webhooks, {} acknowledged, settled after {:?} simulated)",
            report.violations.len(),
            report.webhooks,
            report.acknowledged,
            report.simulated
        );
        std::process::exit(i32::from(!report.violations.is_empty()));
    }
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(from));
    let violations = Arc::new(AtomicUsize::new(0));
    let failing = Arc::new(AtomicUsize::new(0));
    let end = from + seeds;
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (next, violations, failing) = (next.clone(), violations.clone(), failing.clone());
            std::thread::spawn(move || loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= end {
                    return;
                }
                let report = run_seed_with(seed, false, options);
                if !report.violations.is_empty() {
                    violations.fetch_add(report.violations.len(), Ordering::Relaxed);
                    failing.fetch_add(1, Ordering::Relaxed);
                    print_violations(&report);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("a simulation thread");
    }
    let elapsed = started.elapsed();
    let violations = violations.load(Ordering::Relaxed);
    println!(
        "sim: {seeds} seeds, {violations} violations ({} failing seeds; seeds {from}..{end}; {:.0} runs/s, {:.1} s)",
        failing.load(Ordering::Relaxed),
        seeds as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    std::process::exit(i32::from(violations > 0));
}
