//! A fresh PostgreSQL database for each test that needs one.
//!
//! With `OUTDIAL_TEST_DATABASE_URL` set, each database is created on that
//! server. Otherwise, when PostgreSQL's binaries are installed (under
//! `/usr/lib/postgresql/<version>/bin`), the first test of a process
//! starts a throwaway cluster of its own: data in a temporary directory
//! copied from a cluster initialised once per machine, a free loopback
//! port and a unix socket beside the data, `fsync` and
//! `synchronous_commit` on. A watcher stops it and removes its data once
//! the test process has ended, however it ended. Without either, a test
//! is skipped and says why; under CI (`CI=true`) it fails instead, so CI
//! never passes by skipping.
//!
//! A test that stops or restarts its server takes a cluster of its own
//! ([`own_cluster`]), whatever `OUTDIAL_TEST_DATABASE_URL` says: restarting
//! a shared one would fail the tests running beside it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use outdial::store::{PostgresConfig, PostgresStore};

use crate::store_suite::{Backend, FreshStore};

/// The variable naming a server the tests may create databases on.
pub const URL_VARIABLE: &str = "OUTDIAL_TEST_DATABASE_URL";

/// Where Debian installs each version's binaries.
const INSTALL_ROOT: &str = "/usr/lib/postgresql";

/// A database of its own for one test, dropped with it.
pub struct TestDatabase {
    server: &'static Server,
    name: String,
    url: String,
}

impl TestDatabase {
    /// The database's connection string.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The server's connection string for another database on it.
    pub fn url_of(&self, name: &str) -> String {
        self.server.url_of(name)
    }

    /// Runs `sql` on this database, outside any store.
    pub fn execute(&self, sql: &str) {
        let url = self.url.clone();
        let sql = sql.to_string();
        on_a_runtime(move || async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("the test database accepts a connection");
            tokio::spawn(connection);
            client
                .batch_execute(&sql)
                .await
                .expect("the statement runs");
        });
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        self.server.admin(&sql);
    }
}

/// A fresh, empty database, or why there is none to be had.
pub fn fresh_database() -> Result<TestDatabase, String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let server = server()?;
    let name = format!(
        "outdial_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    server.admin(&format!("CREATE DATABASE \"{name}\""));
    Ok(TestDatabase {
        url: server.url_of(&name),
        server,
        name,
    })
}

/// Says why a test is skipped; under CI, fails it instead.
pub fn skip(reason: &str) {
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{reason} (CI never skips a PostgreSQL test)");
    }
    eprintln!("SKIPPED: {reason}");
}

/// Skips the test calling it, saying why, when no database can be had;
/// else evaluates to a fresh one.
#[macro_export]
macro_rules! database_or_skip {
    () => {
        match $crate::postgres::fresh_database() {
            Ok(database) => database,
            Err(reason) => {
                $crate::postgres::skip(&reason);
                return;
            }
        }
    };
}

/// Fresh PostgreSQL stores, each on a database of its own.
#[derive(Debug)]
pub struct PostgresBackend(());

impl PostgresBackend {
    /// The backend, or why PostgreSQL cannot be had.
    pub fn available() -> Result<PostgresBackend, String> {
        server().map(|_| PostgresBackend(()))
    }
}

impl Backend for PostgresBackend {
    fn open(&self) -> FreshStore {
        let database = fresh_database().expect("the server was found before");
        let store = PostgresStore::open(&PostgresConfig::new(database.url()))
            .expect("a store opens on a fresh database");
        FreshStore::keeping(store, database)
    }
}

/// The [`PostgresBackend`], or skips the test calling it, saying why.
#[macro_export]
macro_rules! postgres_backend_or_skip {
    () => {
        match $crate::postgres::PostgresBackend::available() {
            Ok(backend) => backend,
            Err(reason) => {
                $crate::postgres::skip(&reason);
                return;
            }
        }
    };
}

/// A PostgreSQL cluster started for one test alone, which the test may
/// restart; stopped and removed when dropped.
pub struct OwnCluster {
    bin: PathBuf,
    dir: PathBuf,
    url: String,
}

impl OwnCluster {
    /// The connection string of the cluster's `postgres` database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Restarts the server as an operator would (`pg_ctl restart -m fast`):
    /// every connection is closed, and the call returns once the server
    /// accepts connections again.
    pub fn restart(&self) {
        let mut restart = as_server_user(&self.bin.join("pg_ctl"));
        restart
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("server.log"))
            .args(["-m", "fast", "-w", "restart"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        run(restart, "restarting the test cluster").unwrap_or_else(|err| panic!("{err}"));
    }

    /// Stops the server, letting its connections finish cleanly.
    pub fn stop(&self) {
        let mut stop = as_server_user(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "fast", "-w", "stop"]);
        run(stop, "stopping the test cluster").unwrap_or_else(|err| panic!("{err}"));
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        let mut stop = as_server_user(&self.bin.join("pg_ctl"));
        stop.arg("-D")
            .arg(self.dir.join("data"))
            .args(["-m", "immediate", "stop"]);
        // Already stopped by the test, or never fully started: either way
        // the data goes.
        let _ = run(stop, "stopping the test cluster");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A cluster of the calling test's own, or why there is none to be had:
/// it needs PostgreSQL's binaries, not a server named by
/// `OUTDIAL_TEST_DATABASE_URL`, which the test could not restart.
pub fn own_cluster() -> Result<OwnCluster, String> {
    let bin = installed_binaries().ok_or_else(|| {
        format!(
            "PostgreSQL is not installed (no {INSTALL_ROOT}/<version>/bin/initdb); \
             a test that restarts its server needs a cluster of its own"
        )
    })?;
    let (dir, pairs) = start_cluster(&bin)?;
    Ok(OwnCluster {
        bin,
        dir,
        url: format!("{pairs} dbname=postgres"),
    })
}

/// Skips the test calling it, saying why, when no cluster of its own can
/// be started; else evaluates to one.
#[macro_export]
macro_rules! own_cluster_or_skip {
    () => {
        match $crate::postgres::own_cluster() {
            Ok(cluster) => cluster,
            Err(reason) => {
                $crate::postgres::skip(&reason);
                return;
            }
        }
    };
}

/// A server the tests create databases on.
struct Server {
    /// Its connection string without a database name.
    base: Base,
}

enum Base {
    /// A libpq URL from the environment; the database goes in its path.
    Url(String),
    /// A key=value connection string; the database is appended.
    Pairs(String),
}

impl Server {
    fn url_of(&self, name: &str) -> String {
        match &self.base {
            Base::Pairs(pairs) => format!("{pairs} dbname={name}"),
            Base::Url(url) => with_database(url, name),
        }
    }

    /// Runs `sql` on the server's `postgres` database.
    fn admin(&self, sql: &str) {
        let url = self.url_of("postgres");
        let sql = sql.to_string();
        on_a_runtime(move || async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("the test server accepts a connection");
            tokio::spawn(connection);
            client
                .batch_execute(&sql)
                .await
                .unwrap_or_else(|err| panic!("{sql}: {err:?}"));
        });
    }
}

/// `url` naming database `name` instead of its own.
fn with_database(url: &str, name: &str) -> String {
    let (url, query) = match url.split_once('?') {
        Some((url, query)) => (url, Some(query)),
        None => (url, None),
    };
    let authority_start = url.find("://").map_or(0, |at| at + 3);
    let base = match url[authority_start..].find('/') {
        Some(at) => &url[..authority_start + at],
        None => url,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs `work` on a runtime of its own on another thread: the caller may
/// be inside a runtime already.
fn on_a_runtime<F, Fut>(work: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(work());
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// This process's server, found or started once.
fn server() -> Result<&'static Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(url) = std::env::var(URL_VARIABLE)
                && !url.is_empty()
            {
                let base = if url.contains("://") {
                    Base::Url(url)
                } else {
                    Base::Pairs(url)
                };
                return Ok(Server { base });
            }
            let bin = installed_binaries().ok_or_else(|| {
                format!(
                    "PostgreSQL is not installed (no {INSTALL_ROOT}/<version>/bin/initdb); \
                     set {URL_VARIABLE} or install postgresql"
                )
            })?;
            start_cluster(&bin).map(|(_, pairs)| Server {
                base: Base::Pairs(pairs),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The newest installed version's binaries.
fn installed_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(INSTALL_ROOT)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|me| me.uid() == 0)
}

/// A command run as the `postgres` user when this process is root: the
/// server refuses to run as root.
fn as_server_user(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|err| format!("{what}: {err}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Gives the directory to the server's user when this process is root.
fn hand_over(dir: &Path) -> Result<(), String> {
    if !running_as_root() {
        return Ok(());
    }
    let mut chown = Command::new("chown");
    chown.args(["-R", "postgres:postgres"]).arg(dir);
    run(chown, "chown")
}

/// A cluster initialised once per machine and version, copied by each
/// test process: initdb takes seconds, a copy a fraction of one.
fn template(bin: &Path) -> Result<PathBuf, String> {
    let version = bin
        .parent()
        .and_then(Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let template = std::env::temp_dir().join(format!("outdial-pg-template-{version}"));
    if template.join("PG_VERSION").exists() {
        return Ok(template);
    }
    let building = std::env::temp_dir().join(format!(
        "outdial-pg-template-{version}.{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&building).map_err(|err| format!("template dir: {err}"))?;
    hand_over(&building)?;
    let mut initdb = as_server_user(&bin.join("initdb"));
    initdb.arg("-D").arg(&building).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--no-sync",
    ]);
    run(initdb, "initdb")?;
    // Another process may have made it meanwhile: either copy serves.
    if std::fs::rename(&building, &template).is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    Ok(template)
}

/// Starts a cluster and answers its directory and its connection string
/// (key=value pairs, without a database).
fn start_cluster(bin: &Path) -> Result<(PathBuf, String), String> {
    let template = template(bin)?;
    let dir = std::env::temp_dir().join(format!(
        "outdial-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos())
    ));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|err| format!("cluster dir: {err}"))?;
    let mut copy = Command::new("cp");
    copy.arg("-a").arg(&template).arg(&data);
    run(copy, "copying the template cluster")?;
    hand_over(&dir)?;
    watch(bin, &dir)?;
    let port = free_port()?;
    let options = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=on \
         -c synchronous_commit=on -c max_connections=200",
        dir.display()
    );
    let mut start = as_server_user(&bin.join("pg_ctl"));
    start
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-o", &options, "-w", "start"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    run(start, "starting the test cluster").map_err(|err| {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        format!("{err}\n{log}")
    })?;
    let pairs = format!("host={} port={port} user=postgres", dir.display());
    Ok((dir, pairs))
}

/// Starts a watcher that stops the cluster in `dir` and removes it once
/// this process has ended.
fn watch(bin: &Path, dir: &Path) -> Result<(), String> {
    let pg_ctl = bin.join("pg_ctl");
    let stop = if running_as_root() {
        format!(
            "runuser -u postgres -- {} -D {}/data stop -m immediate",
            pg_ctl.display(),
            dir.display()
        )
    } else {
        format!(
            "{} -D {}/data stop -m immediate",
            pg_ctl.display(),
            dir.display()
        )
    };
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|err| format!("starting the cluster's watcher: {err}"))
}

fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|err| format!("finding a free port: {err}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|err| format!("finding a free port: {err}"))
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_url_names_the_test_database_in_place_of_its_own() {
        assert_eq!(
            with_database("postgres://u:p@h:5/postgres?sslmode=disable", "t1"),
            "postgres://u:p@h:5/t1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "t1"), "postgres://h/t1");
    }
}
