//! `footfall`: the server and its admin commands.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use footfall_api::config::{Config, LogFormat};
use footfall_api::{graphql, openapi, server};
use footfall_domain::TenantId;
use footfall_infra::Db;
use footfall_infra::db::sqlite_url;
use tracing_subscriber::EnvFilter;

/// Ingest allocates and frees many short-lived buffers of every size (bodies,
/// statements, rows) from several threads; glibc's allocator spent a seventh
/// of the server's time on that under load (bench/README.md), mimalloc far less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "footfall",
    version,
    about = "Footfall: people counting for retail, malls and transit"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Print the GraphQL schema (SDL).
    GraphqlSchema,
    /// Maintain the footfall rollups.
    Rollups {
        #[command(subcommand)]
        action: RollupsCommand,
    },
}

#[derive(Subcommand)]
enum RollupsCommand {
    /// Re-derive every reading's counts and the rollups from the readings as
    /// reported, for one tenant or all.
    Rebuild {
        /// Only this tenant's data.
        #[arg(long)]
        tenant: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.config.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => server::serve(cli.config).await,
            Command::Migrate => migrate(cli.config).await,
            Command::Openapi => {
                let (_, spec) = openapi::routes();
                println!("{}", spec.to_pretty_json().unwrap_or_default());
                Ok(())
            }
            Command::GraphqlSchema => {
                print!("{}", graphql::schema(None).sdl());
                Ok(())
            }
            Command::Rollups {
                action: RollupsCommand::Rebuild { tenant },
            } => rebuild(cli.config, tenant.as_deref()).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            footfall_api::error::log_failure(&e);
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: Config) -> footfall_domain::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| footfall_domain::Error::internal(format!("cannot create {}: {e}", config.data_dir.display())))?;
    let url = config
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(&config.data_dir));
    let db = Db::connect(&url, 2).await?;
    db.migrate().await?;
    tracing::info!(database = db.engine().as_str(), "migrations applied");
    Ok(())
}

async fn rebuild(config: Config, tenant: Option<&str>) -> footfall_domain::Result<()> {
    let tenant = tenant.map(TenantId::parse).transpose()?;
    let url = config
        .database_url
        .clone()
        .unwrap_or_else(|| sqlite_url(&config.data_dir));
    let db = Db::connect(&url, 2).await?;
    db.migrate().await?;
    let started = std::time::Instant::now();
    let done = footfall_infra::readings::rebuild(&db, tenant).await?;
    tracing::info!(
        devices = done.devices,
        readings = done.readings,
        corrected = done.corrected,
        seconds = started.elapsed().as_secs_f64(),
        "rollups rebuilt"
    );
    Ok(())
}

fn init_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr; stdout carries what commands print (the OpenAPI
    // document, the GraphQL schema).
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}
