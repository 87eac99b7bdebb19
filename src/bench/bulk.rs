//! A bulk onboarding against the in-memory sandbox with the plan's rate limits enforced: users/s
//! against the bound the limits set.

use crate::cli::BenchBulkArgs;

pub fn run(_json: bool, _a: &BenchBulkArgs) -> anyhow::Result<()> {
    anyhow::bail!("not yet implemented")
}
