//! Long jobs — billing runs, price and inventory imports, usage batches — on a runtime and a
//! connection pool of their own, at the lowest CPU priority.
//!
//! A billing run keeps two threads and two connections busy for seconds or minutes. On the
//! server's own runtime it would take CPU and connections from device call-home and API
//! requests, whose latency must not move while it runs. So a job runs on one worker thread
//! whose niceness is the lowest (19): the kernel gives its CPU to requests whenever they need
//! it. Its connections belong to [`Store::for_jobs`] and open on that thread, so SQLite's
//! connection threads inherit the same priority. Jobs still queue for [`Store::job`] permits.

use std::future::Future;
use std::sync::OnceLock;

use mpc_storage::Store;

/// The jobs' runtime: one per process, shared by every server state in it.
fn runtime() -> &'static tokio::runtime::Handle {
    static HANDLE: OnceLock<tokio::runtime::Handle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("mpc-jobs".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .thread_name("mpc-job")
                    .on_thread_start(lower_priority)
                    .enable_all()
                    .build()
                    .expect("the jobs runtime starts");
                let _ = sender.send(runtime.handle().clone());
                // The runtime lives as long as the process.
                runtime.block_on(std::future::pending::<()>());
            })
            .expect("the jobs thread starts");
        receiver.recv().expect("the jobs runtime starts")
    })
}

/// Makes the calling thread (and the threads it starts) yield the CPU to everything else.
/// Failing leaves it as it was: jobs are then only less polite.
fn lower_priority() {
    if let Err(e) =
        thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
    {
        tracing::debug!(error = ?e, "cannot lower a job thread's priority");
    }
}

/// Runs long jobs away from the request path.
#[derive(Clone)]
pub struct Jobs {
    store: Store,
}

impl Jobs {
    pub fn new(store: &Store) -> Self {
        Jobs {
            store: store.for_jobs(),
        }
    }

    /// Runs `job` on the jobs' runtime with the jobs' store, and waits for its result. The job
    /// finishes even if the caller stops waiting (a client that hung up).
    pub async fn run<F, Fut, T>(&self, job: F) -> T
    where
        F: FnOnce(Store) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        match runtime().spawn(job(self.store.clone())).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => panic!("the jobs runtime stopped"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The niceness of the calling thread, from `/proc` (the 19th field of its `stat`).
    fn niceness() -> i64 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").expect("/proc");
        let after_name = &stat[stat.rfind(')').expect("stat") + 1..];
        after_name
            .split_whitespace()
            .nth(16)
            .expect("nice")
            .parse()
            .expect("a number")
    }

    #[tokio::test]
    async fn jobs_run_at_the_lowest_priority_away_from_the_callers_runtime() {
        let db = mpc_storage::testing::TestDb::new(mpc_storage::Backend::Sqlite).await;
        let jobs = Jobs::new(&db.store);
        let caller = niceness();
        let (nice, thread) = jobs
            .run(|store| async move {
                store.ping().await.expect("the jobs' pool answers");
                (niceness(), std::thread::current().name().map(str::to_owned))
            })
            .await;
        assert_eq!(nice, 19);
        assert_eq!(thread.as_deref(), Some("mpc-job"));
        assert_eq!(niceness(), caller, "the caller's thread keeps its priority");
    }
}
