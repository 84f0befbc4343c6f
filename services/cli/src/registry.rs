//! `kansrijk registry import <kind> <file>`: fills the partner registry from a source file (DUO,
//! LRK, the municipality's school list, the CBS postcode table), straight into PostgreSQL with the
//! same code as the API and the web UI (`kansrijk_gateway::registry::import`). Prints the report:
//! inserted, updated, unchanged, skipped, and every reported row with its line and reason.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use kansrijk_gateway::registry::{self, ImportKind, ImportOptions, Sector};

use crate::Connection;

#[derive(Debug, Subcommand)]
pub(crate) enum RegistryCommand {
    /// Imports a source file into the partner registry. Importing the same file again changes
    /// nothing. Rows that cannot be imported are reported with their line; the others are
    /// imported (with --strict: nothing when any row is reported).
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// The kind of file: duo-scholen (DUO, adressen van alle vestigingen), lrk (the LRK open
    /// data export), scholenlijst (BRIN, naam, leerlingen, schoolscore, wijk) or postcodes
    /// (postcode;huisnummer;wijknaam;gemeentecode).
    #[arg(value_parser = ["duo-scholen", "lrk", "scholenlijst", "postcodes"])]
    kind: String,
    /// The CSV file (`;`, `,` or tab; UTF-8 or Latin-1).
    file: PathBuf,
    /// CBS code of the municipality to import for; rows of other municipalities are skipped.
    #[arg(long, default_value = "0546")]
    gemeente: String,
    /// Report what would change without storing anything.
    #[arg(long)]
    dry_run: bool,
    /// Store nothing when any row is reported (what the API does unless asked otherwise).
    #[arg(long)]
    strict: bool,
    /// The sector of a school file: po or vo (default: from the DUO file's columns; po for the
    /// school list).
    #[arg(long, value_parser = ["po", "vo"])]
    sector: Option<String>,
}

pub(crate) async fn run(conn: &Connection, command: RegistryCommand) -> anyhow::Result<()> {
    match command {
        RegistryCommand::Import(args) => import(conn, args).await,
    }
}

async fn import(conn: &Connection, args: ImportArgs) -> anyhow::Result<()> {
    let kind = ImportKind::parse(&args.kind).context("unknown kind")?;
    let content = std::fs::read(&args.file)
        .with_context(|| format!("{} cannot be read", args.file.display()))?;
    let pool = registry::connect(&conn.database_url, 2)
        .await
        .context("connecting to the registry's database")?;
    let options = ImportOptions {
        kind,
        municipality: args.gemeente.clone(),
        dry_run: args.dry_run,
        skip_invalid: !args.strict,
        sector: args.sector.as_deref().and_then(Sector::parse),
    };
    let result = registry::import(&pool, &options, &content).await;
    pool.close().await;
    let report = result?;
    print!("{report}");
    if args.strict && !report.issues.is_empty() {
        anyhow::bail!(
            "{} rows reported; nothing stored (--strict)",
            report.issues.len()
        );
    }
    Ok(())
}
