//! Evaluation off the editor's thread, so Ctrl-C gives the prompt back at once.
//!
//! Each line runs on a worker thread that owns the scope while it runs. The editor thread waits
//! for one of three messages on a [`Link`]: the worker is done (scope back, result), the guard
//! wants a yes or no (the editor asks, since it owns the terminal), or Ctrl-C was pressed. An
//! interrupted worker keeps the scope until its HTTP request in flight returns (the transport
//! blocks and has no cancel hook), then stops at its next operation; the next evaluation waits
//! for it, meta-commands do not.

use std::collections::BTreeMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Scope, AST};

use crate::guard::{Guard, Plan, PlanContext, Prompter, Style};
use crate::host::bundle::Source;
use crate::host::header::{Header, ParamValue};
use crate::host::runner::{Runner, SendSessionFactory};
use crate::host::script::Script;
use crate::host::session::{stop, Stop};

/// What persists between lines: variables and the script functions defined so far.
pub struct State {
    pub scope: Scope<'static>,
    pub ast: AST,
}

impl State {
    pub fn new() -> State {
        State {
            scope: Scope::new(),
            ast: AST::empty(),
        }
    }
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

/// One piece of work for the worker.
pub enum Job {
    /// A line (or several) of Rhai.
    Eval(String),
    /// `:run <procedure>`: a compiled procedure with its bound parameters, planned first unless
    /// the REPL holds every write anyway (`--dry-run`).
    Run(
        Box<Script>,
        BTreeMap<String, ParamValue>,
        Option<Box<PlanFirst>>,
    ),
}

/// What `:run` needs to plan before it runs: the procedure's source, a session maker for the
/// plan pass, and where the plan runs (for the question).
pub struct PlanFirst {
    pub src: Source,
    pub header: Header,
    pub new_session: SendSessionFactory,
    /// The REPL's guard: it asks, and holds the approved plan during the live pass.
    pub guard: Arc<Guard>,
    pub cancel: Arc<AtomicBool>,
    pub ctx: PlanContext,
}

/// A finished job. `state` is `None` only if the worker panicked.
pub struct Done {
    pub state: Option<State>,
    pub result: Result<Dynamic, Box<EvalAltResult>>,
}

pub enum Msg {
    Done(Box<Done>),
    Ask {
        question: String,
        reply: Sender<bool>,
    },
    Interrupt,
}

/// The channel between the editor thread, the worker, the guard's prompter and Ctrl-C.
pub struct Link {
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// A job is running: Ctrl-C interrupts it (at the prompt rustyline reads Ctrl-C as a key).
    busy: Arc<AtomicBool>,
}

impl Default for Link {
    fn default() -> Self {
        Link::new()
    }
}

impl Link {
    pub fn new() -> Link {
        let (tx, rx) = channel();
        Link {
            tx,
            rx,
            busy: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The guard's prompter for this REPL: questions go to the editor thread.
    pub fn prompter(&self) -> ReplPrompter {
        ReplPrompter {
            tx: self.tx.clone(),
        }
    }

    /// Route Ctrl-C to `cancel` (the session's stop flag) while a job runs; ignore it otherwise.
    pub fn install_ctrl_c(&self, cancel: Arc<AtomicBool>) -> Result<(), ctrlc::Error> {
        let busy = self.busy.clone();
        let tx = self.tx.clone();
        ctrlc::set_handler(move || {
            if busy.load(Ordering::SeqCst) {
                cancel.store(true, Ordering::SeqCst);
                let _ = tx.send(Msg::Interrupt);
            }
        })
    }

    /// Start `job` on a worker thread that owns `state` until it sends [`Msg::Done`].
    pub fn spawn(&self, engine: Arc<Engine>, mut state: State, job: Job) {
        // A Ctrl-C that raced the end of the previous job must not stop this one.
        while let Ok(m) = self.rx.try_recv() {
            if let Msg::Ask { reply, .. } = m {
                let _ = reply.send(false);
            }
        }
        self.busy.store(true, Ordering::SeqCst);
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            let out = catch_unwind(AssertUnwindSafe(move || {
                let result = run(&engine, &mut state, job);
                (state, result)
            }));
            let done = match out {
                Ok((state, result)) => Done {
                    state: Some(state),
                    result,
                },
                Err(_) => Done {
                    state: None,
                    result: Err(
                        "internal error: the evaluation panicked; variables were reset".into(),
                    ),
                },
            };
            let _ = tx.send(Msg::Done(Box::new(done)));
        });
    }

    /// The next message from the worker, the prompter or Ctrl-C.
    pub fn recv(&self) -> Option<Msg> {
        self.rx.recv().ok()
    }

    /// A message already waiting, if any.
    pub fn try_recv(&self) -> Option<Msg> {
        self.rx.try_recv().ok()
    }

    /// Like [`Link::recv`], giving up after `d`.
    pub fn recv_timeout(&self, d: std::time::Duration) -> Option<Msg> {
        self.rx.recv_timeout(d).ok()
    }

    /// The job has ended (its `Done` was received).
    pub fn idle(&self) {
        self.busy.store(false, Ordering::SeqCst);
    }
}

fn run(engine: &Engine, state: &mut State, job: Job) -> Result<Dynamic, Box<EvalAltResult>> {
    match job {
        Job::Eval(src) => {
            // The rhai-repl way: functions accumulate in one AST; statements run once.
            let ast = engine.compile_with_scope(&state.scope, &src)?;
            state.ast += ast;
            let r = engine.eval_ast_with_scope::<Dynamic>(&mut state.scope, &state.ast);
            state.ast.clear_statements();
            r
        }
        Job::Run(script, params, None) => script.run(engine, &params),
        Job::Run(script, params, Some(pf)) => {
            let runner = Runner {
                src: &pf.src,
                header: &pf.header,
                params: &params,
                new_session: &*pf.new_session,
                cancel: pf.cancel.clone(),
            };
            let planned = if runner.read_only_script() {
                Plan::default()
            } else {
                let pass = runner
                    .plan(pf.guard.policy(), None, true)
                    .map_err(|e| Box::<EvalAltResult>::from(e.to_string()))?;
                pass.result.map(drop)?;
                pass.plan
            };
            if planned.is_empty() && !runner.read_only_script() {
                eprintln!("plan: no write is needed (already done); nothing will be sent");
            }
            pf.guard
                .approve(&planned, &pf.ctx, Style::for_terminal(true))
                .map_err(|r| stop(Stop::Refused(r)))?;
            let r = script.run(engine, &params);
            pf.guard.set_approved(None);
            r
        }
    }
}

/// Asks through the editor thread (which owns the terminal); no answer is a no.
pub struct ReplPrompter {
    tx: Sender<Msg>,
}

impl Prompter for ReplPrompter {
    fn confirm(&self, question: &str) -> io::Result<bool> {
        let (reply, answer) = channel();
        self.tx
            .send(Msg::Ask {
                question: question.to_string(),
                reply,
            })
            .map_err(|_| io::Error::other("the REPL is closing"))?;
        answer.recv().map_err(|_| io::Error::other("no answer"))
    }
}
