//! The schema's versioned migrations (`migrations/V<n>__<name>.sql`),
//! applied at open under an advisory lock, so several processes opening
//! one database at once migrate it once. A database whose schema is newer
//! than this build knows is refused rather than misread.

use tokio_postgres::Client;

use super::rows::describe;

mod embedded {
    refinery::embed_migrations!("src/store/postgres/migrations");
}

/// The table refinery keeps the applied migrations in.
const HISTORY_TABLE: &str = "refinery_schema_history";

/// The key of the advisory lock held while migrating: "outdial" in ASCII.
const MIGRATION_LOCK: i64 = 0x006f_7574_6469_616c;

/// The newest schema version this build knows.
pub(super) fn known_version() -> i64 {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|migration| i64::from(migration.version()))
        .max()
        .unwrap_or(0)
}

/// Brings the database's schema up to [`known_version`], or says why not.
/// `client` is a connection of its own: dropping it releases the lock
/// whatever happened.
pub(super) async fn migrate(client: &mut Client) -> Result<(), String> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|err| describe(&err))?;
    let known = known_version();
    if let Some(found) = applied_version(client).await?
        && found > known
    {
        return Err(format!(
            "the database's schema is version {found}, newer than this outdial knows \
             (version {known}): run the outdial that migrated it, or a newer one"
        ));
    }
    embedded::migrations::runner()
        .set_migration_table_name(HISTORY_TABLE)
        .run_async(client)
        .await
        .map_err(|err| format!("migrating the schema to version {known} failed: {err}"))?;
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|err| describe(&err))?;
    Ok(())
}

/// The newest migration applied to the database, `None` for a database
/// never migrated.
async fn applied_version(client: &Client) -> Result<Option<i64>, String> {
    let exists: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&HISTORY_TABLE])
        .await
        .map_err(|err| describe(&err))?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let row = client
        .query_one(
            &format!("SELECT max(version)::bigint FROM {HISTORY_TABLE}"),
            &[],
        )
        .await
        .map_err(|err| describe(&err))?;
    Ok(row.get(0))
}
