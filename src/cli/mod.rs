//! Command-line definitions (clap). Parsing only; `cmd` does the work.

pub mod complete;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCompleter;

/// vline — automate Zoom Phone on Movius VirtualLine.
///
/// With no configuration every command runs against the embedded sandbox (an emulator of Movius,
/// the carrier and Zoom on loopback), so you can try anything safely.
#[derive(Debug, Parser)]
#[command(name = "vline", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args, Clone, Default)]
pub struct Global {
    /// Profile from config.toml (default: the config's `default_profile`, else the sandbox).
    #[arg(long, global = true, env = "VLINE_PROFILE", add = ArgValueCompleter::new(crate::cli::complete::profiles))]
    pub profile: Option<String>,
    /// Config file (default: $XDG_CONFIG_HOME/vline/config.toml).
    #[arg(long, global = true, env = "VLINE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print results as JSON (for pipelines): short for `--output json`.
    #[arg(long, global = true)]
    pub json: bool,
    /// How results print: `table` for a person (the default), or `json`, `jsonl` (one row a
    /// line), `csv`, `yaml` for a pipeline.
    #[arg(long, short = 'o', global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<crate::output::Format>,
    /// Only these fields (columns), in this order: `--fields number,status,assignee.name`.
    #[arg(long, global = true, value_delimiter = ',', value_name = "A,B,C")]
    pub fields: Vec<String>,
    /// Colour on a terminal: `auto` (unless NO_COLOR is set or output is a pipe), `always`,
    /// `never`.
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    pub color: crate::output::color::ColorChoice,
    /// More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The change ticket the run is made under (journaled with it; a profile with
    /// `require_ticket = true` refuses runs without one).
    #[arg(long, global = true, value_name = "ID", env = "VLINE_TICKET")]
    pub ticket: Option<String>,
}

impl Global {
    /// The output asked for: `--output`, else `--json`, else tables.
    pub fn output(&self) -> crate::output::Output {
        let format = match (self.output, self.json) {
            (Some(f), _) => f,
            (None, true) => crate::output::Format::Json,
            (None, false) => crate::output::Format::Table,
        };
        crate::output::Output {
            format,
            fields: self.fields.clone(),
        }
    }

    /// Whether results print from their data as a document (any `--output` but `table`,
    /// `--json`, or `--fields`, which picks columns of the data) rather than a command's own
    /// human layout.
    pub fn structured(&self) -> bool {
        self.output().structured() || !self.fields.is_empty()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a bundled procedure or a .rhai script: `vline run onboard-new-user phone_number=+13126170100 user=carol@jpmc.example`.
    ///
    /// Parameters are KEY=VALUE, checked against the script's declared parameters before anything
    /// runs (`vline run <procedure> --help` lists them). Writes pass the guardrails: irreversible
    /// ones ask, naming the target (`--yes` pre-approves), `--dry-run` holds every write in a plan.
    /// Exit codes: 0 done, 1 failed, 2 usage, 3 refused by a guard or a prerequisite.
    #[command(after_help = "Examples:
  vline procedures                              list what can be run
  vline run onboard-new-user --help             a procedure's parameters
  vline run onboard-new-user phone_number=+13126170100 user=carol@jpmc.example --dry-run
  vline run offboard-number phone_number=+13126170003 --yes
  vline run move-org-to-user-level org=org-legacy --outside-window \"CAB-1234\"
  vline run ./my_migration.rhai file=users.csv  your own script (`vline doc` lists functions)")]
    Run(RunArgs),
    /// Run a plan saved with `vline run … --plan-out FILE`, after a change board reviewed it.
    ///
    /// Refused (exit 3, nothing sent) when the script or its SHA-256, the profile, the Zoom
    /// account or the parameters differ from the plan's, when the plan is older than the
    /// profile's `plan_max_age` (default 24h), or when the state moved: the script is planned
    /// again against the live state, and any write the saved plan does not hold stops the
    /// apply before its first write. The plan is shown and confirmed once (`--yes` pre-approves;
    /// without a terminal an irreversible plan needs `--yes`); then only the plan's writes are
    /// sent. The journal records the plan file's SHA-256 with the run.
    #[command(after_help = "Examples:
  vline run onboard-new-user phone_number=+13126170100 user=carol@jpmc.example --plan-out chg-4242.plan.json
  vline plan show chg-4242.plan.json            what the change board reviews
  vline apply chg-4242.plan.json --yes          in the maintenance window")]
    Apply(ApplyArgs),
    /// Saved plans (`vline run … --plan-out FILE`).
    #[command(subcommand)]
    Plan(PlanCmd),
    /// Run a procedure once per row of a CSV, as fast as Zoom's rate limits allow; resumable.
    ///
    /// The whole file is validated first (columns, E.164 numbers, emails, duplicates) and refused
    /// whole, every bad line listed, before any call. One confirmation covers the run. Results go
    /// to one CSV per run beside the input (`<name>.results-<run>.csv`), rewritten whole by every
    /// attempt; `--resume RUN` continues a run that crashed or was stopped, without repeating a
    /// row that was done.
    ///
    /// Rows are known by their key (the procedure's `key:` parameters, e.g. phone_number; else
    /// all of them), not their line: a resume on an edited file skips the rows done, runs new
    /// ones, names the rows left out, and refuses the file whole if a known row's values changed.
    /// A run has one owner: resuming a run whose process is still alive (on any host) is refused;
    /// a dead owner's run is taken over. Ctrl-C once: no new row, the rows in flight finish (at
    /// most 30 s), then the summary and the resume command, exit 130. Twice: the calls in flight
    /// are abandoned and their rows recorded as interrupted with what was sent.
    #[command(after_help = "Examples:
  vline bulk onboard-new-user --csv users.csv --preflight   will it fit, will it succeed?
  vline bulk onboard-new-user --csv users.csv --dry-run     every write planned, none sent
  vline bulk onboard-new-user --csv users.csv --yes         run it
  vline bulk onboard-new-user --csv users.csv --resume r12  after a crash, a kill or Ctrl-C
The CSV's header names the procedure's parameters (onboard-new-user: phone_number,user[,org]).
A dry run is a plan: it cannot be resumed; run the file live.
Exit codes: 0 every row done, 1 some rows failed (see the results CSV), 2 bad input,
3 refused (e.g. the run's owner is alive), 130 stopped by Ctrl-C (resume it).")]
    Bulk(BulkArgs),
    /// List the bundled procedures with the guide section each implements.
    Procedures,
    /// Print what a script can call: signature, impact level and doc (`vline doc zoom::assign_number`).
    Doc {
        /// A module (`zoom`), a function (`zoom::assign_number`) or a bare name (`assign_number`).
        name: Option<String>,
    },
    /// Compile scripts and report errors with their position, without running them.
    Check {
        /// Script files or bundled procedure names.
        files: Vec<String>,
    },
    /// Measure throughput and overhead against the limits they chase (ratios, not timings).
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Print the shell hook for completions of commands, flags, procedure names, their
    /// parameter keys, profiles and run ids (asked of vline as you type):
    /// `vline completions bash > ~/.local/share/bash-completion/completions/vline`, or
    /// `source <(COMPLETE=bash vline)` in ~/.bashrc.
    Completions { shell: clap_complete::Shell },
    /// Run the local sandbox (Movius, carrier and Zoom emulator), reset or inspect it.
    #[command(subcommand)]
    Sandbox(SandboxCmd),
    /// Read the audit journal: runs, their writes, CSV export.
    #[command(subcommand)]
    Journal(JournalCmd),
    /// Run one typed operation: `vline call zoom numbers type=unassigned`, `vline call movius account phone_number=…`.
    Call(CallArgs),
    /// Show the resolved profile (secrets masked) or write an example config.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Interactive console: explore accounts and try operations; read-only until `:write on`.
    ///
    /// Tab completes modules, functions, variables and fields (a second Tab lists the
    /// candidates); a hint shows the signature of the call being typed; `:vars` shows what is in
    /// scope; `:help` lists the meta-commands; `exit` or `quit` leaves. Ctrl-C stops the running call (or
    /// clears the line), Ctrl-D leaves. History is kept in the data directory.
    Repl(ReplArgs),
    /// Will this profile work? Read-only checks, one line each: config and secrets present (never
    /// printed), Zoom token and the scopes vline's operations need, Zoom reached and its rate
    /// limits, whether Zoom honours the `phone_number` filter, Movius reached with the API user.
    /// Exit 0 when every check passes, 1 otherwise.
    #[command(after_help = "Examples:
  vline doctor                      the embedded sandbox (no config needed)
  vline doctor --profile prod       before the maintenance window
  vline --json doctor --profile prod")]
    Doctor,
}

#[derive(Debug, Args)]
pub struct ReplArgs {
    /// Start with writes allowed (the same guardrails as `vline run`; irreversible ones ask).
    #[arg(long)]
    pub write: bool,
    /// Hold every write in a plan instead of sending it (`:plan` prints it).
    #[arg(long, conflicts_with = "write")]
    pub dry_run: bool,
    /// Stop after N writes in this session (default: the profile's max_changes).
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
    /// Allow maintenance-window procedures outside the window; the reason is journaled.
    #[arg(long, value_name = "REASON")]
    pub outside_window: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SandboxCmd {
    /// Serve the sandbox on 127.0.0.1 until Ctrl-C or SIGTERM.
    Serve(SandboxServe),
    /// Wipe the sandbox state (accounts, numbers, request log, faults) and load a seed.
    Reset {
        /// `demo` (the guide's deployment) or `empty`.
        #[arg(long, default_value = "demo")]
        seed: String,
        /// SQLite state file (default: the data directory's sandbox.sqlite).
        #[arg(long)]
        state: Option<String>,
        /// Also add N licensed phone users `bench00001@jpmc.example` … (site Chicago) for bulk runs.
        #[arg(long, value_name = "N", default_value_t = 0)]
        users: u64,
        /// Also add M unassigned Zoom-native numbers (+1415…): a larger account.
        #[arg(long, value_name = "M", default_value_t = 0)]
        extra_numbers: u64,
        /// Also add M Zoom-native numbers (+1416…) held by the bench users, a few each: a larger
        /// account in use, whose unassigned list does not grow (needs --users).
        #[arg(long, value_name = "M", default_value_t = 0)]
        held_numbers: u64,
    },
    /// Counts of orgs, accounts, numbers and users in the sandbox.
    Status {
        /// SQLite state file (default: the data directory's sandbox.sqlite).
        #[arg(long)]
        state: Option<String>,
    },
    /// The sandbox's request log: every request it served, oldest first.
    Log {
        /// Only requests that change state.
        #[arg(long)]
        writes: bool,
        /// Only the last N requests.
        #[arg(long)]
        last: Option<usize>,
        /// SQLite state file (default: the data directory's sandbox.sqlite).
        #[arg(long)]
        state: Option<String>,
    },
    /// Faults on demand: failed peering, 5xx, timeouts, latency, 429 bursts, expired tokens.
    #[command(subcommand)]
    Fault(SandboxFaultCmd),
}

#[derive(Debug, Subcommand)]
pub enum SandboxFaultCmd {
    /// Replace the faults with these (a running `serve` on the same state picks them up).
    Set(SandboxFaultSet),
    /// Remove every fault.
    Clear {
        /// SQLite state file (default: the data directory's sandbox.sqlite).
        #[arg(long)]
        state: Option<String>,
    },
    /// Print the faults in force.
    Show {
        /// SQLite state file (default: the data directory's sandbox.sqlite).
        #[arg(long)]
        state: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct SandboxFaultSet {
    /// Peering into Zoom fails for this number (repeatable).
    #[arg(long = "peering-fail", value_name = "NUMBER")]
    pub peering_fail: Vec<String>,
    /// Share of peering attempts that fail (0..1).
    #[arg(long, value_name = "F")]
    pub peering_fail_share: Option<f64>,
    /// Share of requests answered 503 (0..1).
    #[arg(long = "5xx", value_name = "F")]
    pub http_5xx: Option<f64>,
    /// Share of requests that hang 30 s, then answer 504 (0..1).
    #[arg(long, value_name = "F")]
    pub timeouts: Option<f64>,
    /// Added latency per service, e.g. `zoom=200ms,movius=350ms,carrier=1s`.
    #[arg(long, value_name = "SERVICE=DURATION,…")]
    pub latency: Option<String>,
    /// Of every N Zoom requests, the last LEN get 429, e.g. `10:3`.
    #[arg(long = "burst-429", value_name = "N:LEN")]
    pub burst_429: Option<String>,
    /// 429s come without Retry-After.
    #[arg(long)]
    pub no_retry_after: bool,
    /// Expire every Zoom token issued so far.
    #[arg(long)]
    pub expire_tokens: bool,
    /// Share of successful writes that are applied and then lose their answer (the connection
    /// is dropped after the change is made), 0..1.
    #[arg(long, value_name = "F")]
    pub drop_after_apply: Option<f64>,
    /// SQLite state file (default: the data directory's sandbox.sqlite).
    #[arg(long)]
    pub state: Option<String>,
}

#[derive(Debug, Args)]
pub struct SandboxServe {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8642)]
    pub port: u16,
    /// SQLite state file, or `:memory:` (default: the data directory's sandbox.sqlite).
    #[arg(long)]
    pub state: Option<String>,
    /// Seed to load when the state is new: `demo` or `empty`.
    #[arg(long, default_value = "demo")]
    pub seed: String,
    /// Zoom plan that sets the rate limits: `pro` or `business`.
    #[arg(long, default_value = "business")]
    pub plan: String,
    /// Never answer 429 for rate limits (faults still can).
    #[arg(long)]
    pub no_rate_limits: bool,
    /// Ignore the phone_number filter of GET /phone/numbers, as Zoom's published spec documents none.
    #[arg(long)]
    pub published_spec: bool,
    /// Also refuse Zoom request fields and query parameters the spec does not name (400, code
    /// 300, naming the field). Required fields, types and enums are checked either way.
    #[arg(long)]
    pub strict: bool,
    /// Lifetime of Zoom access tokens, in seconds.
    #[arg(long, default_value_t = 3600)]
    pub token_ttl: u64,
    /// Lifetime of Zoom `next_page_token`s, in seconds (Zoom: 15 minutes).
    #[arg(long, default_value_t = 900, value_name = "SECS")]
    pub page_token_ttl: u64,
    /// Start with this share of successful writes applied and then answered by a dropped
    /// connection (0..1; `vline sandbox fault set --drop-after-apply F` changes it later).
    #[arg(long, value_name = "F")]
    pub drop_after_apply: Option<f64>,
}

#[derive(Debug, Args)]
pub struct CallArgs {
    /// `zoom`, `movius` or `carrier` (sandbox only).
    pub service: String,
    /// The operation, named like the script function (`numbers`, `account`, `assign_number`, …);
    /// `vline call zoom help` lists them with their keys.
    pub op: String,
    /// Arguments as key=value (`type=unassigned`, `phone_number=+13126170001`, lists comma-separated).
    pub params: Vec<String>,
    /// Allow operations that change state (they are refused otherwise). A write is shown as a
    /// plan and confirmed like a procedure's: irreversible ones need a terminal or --yes.
    #[arg(long)]
    pub allow_write: bool,
    /// Approve the write without a prompt (after checking the target).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the write that would be sent and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Refuse a plan of more than N writes (default: the profile's max_changes).
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Print the resolved profile: URLs, ids, plan, policy, and where each secret comes from (masked).
    Show,
    /// Write a commented example config.toml.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCmd {
    /// The latest runs, newest first: who, under which ticket, what; filters narrow it.
    #[command(after_help = "Examples:
  vline journal list --target +13126170001          who changed this number, and when
  vline journal list --ticket CHG-4242 --json        everything done under a change ticket
  vline journal list --operator alice --since 2026-12-01 --outcome refused")]
    List {
        /// How many runs to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[command(flatten)]
        filter: JournalFilter,
    },
    /// Recompute the journal's hash chain: exit 0 when no run or write was edited, inserted or
    /// removed behind its back, else 1 naming the first one.
    Verify,
    /// One run and its writes in order.
    Show {
        /// Run id, as `vline journal list` shows it (`r12` or `12`).
        #[arg(add = ArgValueCompleter::new(crate::cli::complete::runs))]
        run: crate::journal::RunId,
    },
    /// All journaled writes as CSV (or JSON with --json).
    Export {
        /// CSV output (the default).
        #[arg(long)]
        csv: bool,
        /// `csv` (the default), `json` (one array) or `jsonl` (one write a line, for log
        /// pipelines).
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
        /// Only this run's writes.
        #[arg(long, add = ArgValueCompleter::new(crate::cli::complete::runs))]
        run: Option<crate::journal::RunId>,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only the writes of the runs these filters find (as `journal list`'s).
        #[command(flatten)]
        filter: JournalFilter,
    },
}

/// Filters of `vline journal list`: every one given must match. `--ticket ID` and
/// `--profile P` (the global flags) filter too.
#[derive(Debug, Args, Clone, Default)]
pub struct JournalFilter {
    /// Runs by this operator.
    #[arg(long)]
    pub operator: Option<String>,
    /// Runs with a write whose target contains this (a number, a user, an org).
    #[arg(long)]
    pub target: Option<String>,
    /// Runs with a write of this operation (`zoom::assign_number` or `assign_number`).
    #[arg(long)]
    pub op: Option<String>,
    /// Runs that ended so: done, failed, refused, interrupted, running.
    #[arg(long)]
    pub outcome: Option<String>,
    /// Runs started at or after this time (`2026-12-01` or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Runs started before this time.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// A bundled procedure (`vline procedures`) or a path to a .rhai file.
    #[arg(add = ArgValueCompleter::new(crate::cli::complete::procedures))]
    pub script: Option<String>,
    /// Parameters as KEY=VALUE (`vline run <procedure> --help` lists them).
    #[arg(add = ArgValueCompleter::new(crate::cli::complete::params))]
    pub params: Vec<String>,
    /// Send no write: print the numbered plan of what would be sent.
    #[arg(long)]
    pub dry_run: bool,
    /// Approve irreversible operations without a prompt (after checking the targets).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Refuse every write.
    #[arg(long)]
    pub read_only: bool,
    /// Run a maintenance-window procedure outside the window; the reason is journaled.
    #[arg(long, value_name = "REASON")]
    pub outside_window: Option<String>,
    /// Refuse a plan of more than N writes (default: the profile's max_changes).
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
    /// Save the plan to FILE and change nothing: a change board reviews it
    /// (`vline plan show FILE`), `vline apply FILE` runs it later.
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,
    /// Stop the run after N service calls (default: the profile's max_calls, 10,000).
    #[arg(long, value_name = "N")]
    pub max_calls: Option<u64>,
    /// Stop the run after N seconds (default: the profile's max_run_secs, a day).
    #[arg(long, value_name = "N")]
    pub max_run_secs: Option<u64>,
    /// Show the script's parameters (or this help without a script).
    #[arg(long, short = 'h')]
    pub help: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The plan file written by `vline run … --plan-out FILE`.
    pub file: PathBuf,
    /// Approve the plan without a prompt (after the change board did).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Refuse a plan of more than N writes (default: the profile's max_changes).
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
    /// Run a maintenance-window procedure outside the window; the reason is journaled.
    #[arg(long, value_name = "REASON")]
    pub outside_window: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PlanCmd {
    /// Print a saved plan for a person: what runs, where, with what, and every write.
    Show {
        /// The plan file.
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct BulkArgs {
    /// A bundled procedure or a .rhai file; CSV columns map to its declared parameters.
    #[arg(add = ArgValueCompleter::new(crate::cli::complete::procedures))]
    pub script: String,
    /// The input CSV (header row = parameter names).
    #[arg(long)]
    pub csv: PathBuf,
    /// Rows at once: a number, or `auto` (grow while Zoom's budget is not full, back off on 429).
    #[arg(long, default_value = "auto")]
    pub concurrency: crate::bulk::concurrency::Concurrency,
    /// Continue run RUN (from `vline journal list`): rows are matched by key wherever they now
    /// stand; done rows are skipped, the rest re-checked, new rows run.
    #[arg(long, value_name = "RUN", add = ArgValueCompleter::new(crate::cli::complete::runs))]
    pub resume: Option<String>,
    /// Send no write; print the plan.
    #[arg(long)]
    pub dry_run: bool,
    /// Approve the run's irreversible changes without a prompt.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Results CSV (default: beside the input, `<name>.results-<run>.csv`); one per run, each
    /// attempt rewrites it whole (temp file + rename).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Stop after N writes in total.
    #[arg(long, value_name = "N")]
    pub max_changes: Option<u64>,
    /// Stop the run after N service calls plus 100 per row (default N: the profile's max_calls).
    #[arg(long, value_name = "N")]
    pub max_calls: Option<u64>,
    /// Stop the run after N seconds (default: the profile's max_run_secs, a day).
    #[arg(long, value_name = "N")]
    pub max_run_secs: Option<u64>,
    /// Run a maintenance-window procedure outside the window; the reason is journaled.
    #[arg(long, value_name = "REASON")]
    pub outside_window: Option<String>,
    /// Check the file without changing anything; exit 0 ready, 3 not ready. Reads top-down: the
    /// verdict, blocked rows by kind, licences and plans against what is free, time against the
    /// next maintenance window, writes, then the first 20 blocked rows (`--verbose` lists every
    /// row). `<name>.preflight.csv` beside the input has every row: its verdict, what it would
    /// do, what blocks it and the next step.
    #[arg(long, conflicts_with_all = ["resume", "dry_run"])]
    pub preflight: bool,
}

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Per-call overhead of the script host: N reads through a script vs the Rust client directly.
    Host(BenchHostArgs),
    /// Bulk onboarding of N users against the in-memory sandbox with the plan's limits enforced.
    ///
    /// Reports users/s against the physical bound: the plan's light limit ÷ 1, since the assign
    /// (`POST /phone/users/{userId}/phone_numbers`, light) is the one Zoom call onboarding cannot
    /// avoid (Business: 40 users/s). The client paces to the profile's `zoom_rate_share` of the
    /// limits (95 %), the highest ratio a run can reach. Then the same at concurrency 1 (a
    /// sequential script) and a check that calls per user do not grow from an account of 1,000
    /// numbers to one of 50,000. The last line is machine-readable.
    Bulk(BenchBulkArgs),
}

#[derive(Debug, Args)]
pub struct BenchHostArgs {
    /// Read calls per side.
    #[arg(long, default_value_t = 2000)]
    pub calls: u64,
}

#[derive(Debug, Args)]
pub struct BenchBulkArgs {
    /// Users to onboard.
    #[arg(long, default_value_t = 1000)]
    pub users: u64,
    /// Zoom plan whose rate limits the sandbox enforces and the client paces to.
    #[arg(long, default_value = "business")]
    pub plan: crate::api::ZoomPlan,
    /// Added latency per service (`none` for none); the default is what the services answer in
    /// from a bank's network.
    #[arg(long, default_value = "zoom=120ms,movius=350ms")]
    pub latency: String,
    /// Serve Zoom's number list as its published spec documents it: the `phone_number` filter
    /// is ignored.
    #[arg(long)]
    pub published_spec: bool,
    /// Concurrency of the main run (`auto` or a number).
    #[arg(long, default_value = "auto")]
    pub concurrency: crate::bulk::concurrency::Concurrency,
    /// Users in the sequential baseline run (concurrency 1).
    #[arg(long, default_value_t = 100)]
    pub sequential_users: u64,
    /// Only measure memory: validate, journal and stream a generated CSV of N rows (no calls).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub memory_rows: u64,
}
