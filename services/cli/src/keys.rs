//! Key material for configuration: master keys that wrap the per-subject keys of the privacy
//! service, and the key of the keyed pseudonyms. Printed once on stdout, to go straight into a
//! secret store; never logged.

use clap::Subcommand;
use kansrijk_runtime::crypto::MasterKeyRing;

#[derive(Debug, Subcommand)]
pub(crate) enum KeysCommand {
    /// Prints a new master key as `id:base64` for KANSRIJK_MASTER_KEYS. To rotate, put the new
    /// key first and keep the old ones after it (`3:new,2:old`): the first wraps, all unwrap.
    GenerateMaster {
        /// Key id; must differ from the ids of the keys still in use.
        #[arg(long, default_value_t = 1)]
        id: u32,
    },
    /// Prints a new pseudonym key (base64, 32 bytes) for KANSRIJK_PSEUDONYM_KEY. Changing it
    /// changes every pseudonym: generate it once per deployment and back it up.
    GeneratePseudonym,
}

pub(crate) fn run(command: &KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::GenerateMaster { id } => {
            let spec = MasterKeyRing::generate_spec(*id);
            // Check that what we print is what the services accept.
            MasterKeyRing::parse(&spec).map_err(|e| anyhow::anyhow!("generated key: {e}"))?;
            println!("{spec}");
        }
        KeysCommand::GeneratePseudonym => println!("{}", random_key()),
    }
    Ok(())
}

/// 32 random bytes, base64: the same generator as the master keys, without the id.
pub(crate) fn random_key() -> String {
    let spec = MasterKeyRing::generate_spec(0);
    spec.split_once(':')
        .map(|(_, k)| k.to_owned())
        .unwrap_or(spec)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_master_keys_parse_and_differ() {
        let a = MasterKeyRing::generate_spec(7);
        let b = MasterKeyRing::generate_spec(7);
        assert_ne!(a, b);
        assert_eq!(
            MasterKeyRing::parse(&a).map(|r| r.current_id()).ok(),
            Some(7)
        );
    }

    #[test]
    fn pseudonym_keys_are_32_bytes_base64() {
        let k = random_key();
        assert_eq!(k.len(), 44, "32 bytes are 44 base64 characters");
        assert_ne!(k, random_key());
    }
}
