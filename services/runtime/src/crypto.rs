//! Field encryption and pseudonyms.
//!
//! - A [`SubjectKey`] is the data key of one data subject (a child, a family). Personal parts of
//!   payloads are sealed with it (AES-256-GCM-SIV, the subject id and key version as associated
//!   data), so destroying the key erases every copy (crypto-shredding).
//! - The privacy service stores subject keys wrapped by a [`MasterKeyRing`]; the current master key
//!   wraps, older ones still unwrap until everything is rewrapped (rotation).
//! - A [`Pseudonymizer`] turns identifiers (a BSN) into keyed HMAC pseudonyms within a domain.

use aes_gcm_siv::aead::{Aead, KeyInit, Payload};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use kansrijk_proto::sealed::Sealed;
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::Sha256;
use uuid::Uuid;
use zeroize::Zeroizing;

pub const ALG: &str = "AES-256-GCM-SIV";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("the ciphertext does not open with this key")]
    Open,
    #[error("sealed for another subject or key version")]
    WrongKey,
    #[error("unsupported algorithm")]
    Algorithm,
    #[error("malformed ciphertext")]
    Malformed,
    #[error("encoding failed")]
    Encoding,
    #[error("unknown master key {0}")]
    UnknownMasterKey(u32),
}

/// The data key of one data subject.
#[derive(Clone)]
pub struct SubjectKey {
    pub subject: Uuid,
    pub version: u32,
    key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectKey")
            .field("subject", &self.subject)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl SubjectKey {
    pub fn generate(subject: Uuid, version: u32) -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        SubjectKey {
            subject,
            version,
            key,
        }
    }

    pub fn from_bytes(subject: Uuid, version: u32, bytes: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::Malformed)?;
        Ok(SubjectKey {
            subject,
            version,
            key: Zeroizing::new(arr),
        })
    }

    /// Raw key bytes, for wrapping and for transport to services over an authenticated channel.
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    fn aad(&self) -> Vec<u8> {
        let mut aad = self.subject.as_bytes().to_vec();
        aad.extend_from_slice(&self.version.to_be_bytes());
        aad
    }

    /// Seals a value.
    pub fn seal<T: Serialize>(&self, value: &T) -> Result<Sealed<T>, CryptoError> {
        let plain = Zeroizing::new(serde_json::to_vec(value).map_err(|_| CryptoError::Encoding)?);
        let (nonce, ct) = aead_seal(&self.key, &plain, &self.aad())?;
        Ok(Sealed::new(
            ALG.into(),
            self.subject,
            self.version,
            B64.encode(nonce),
            B64.encode(ct),
        ))
    }

    /// Opens a value sealed with this key.
    pub fn open<T: DeserializeOwned>(&self, sealed: &Sealed<T>) -> Result<T, CryptoError> {
        if sealed.alg != ALG {
            return Err(CryptoError::Algorithm);
        }
        if sealed.subject != self.subject || sealed.key_version != self.version {
            return Err(CryptoError::WrongKey);
        }
        let nonce = B64
            .decode(&sealed.nonce)
            .map_err(|_| CryptoError::Malformed)?;
        let ct = B64
            .decode(&sealed.ciphertext)
            .map_err(|_| CryptoError::Malformed)?;
        let plain = Zeroizing::new(aead_open(&self.key, &nonce, &ct, &self.aad())?);
        serde_json::from_slice(&plain).map_err(|_| CryptoError::Malformed)
    }
}

fn aead_seal(key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Result<([u8; 12], Vec<u8>), CryptoError> {
    let cipher = Aes256GcmSiv::new_from_slice(key).map_err(|_| CryptoError::Malformed)?;
    let mut nonce = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| CryptoError::Encoding)?;
    Ok((nonce, ct))
}

fn aead_open(key: &[u8; 32], nonce: &[u8], ct: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if nonce.len() != 12 {
        return Err(CryptoError::Malformed);
    }
    let cipher = Aes256GcmSiv::new_from_slice(key).map_err(|_| CryptoError::Malformed)?;
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map_err(|_| CryptoError::Open)
}

/// Master keys that wrap subject keys at rest. `current` wraps; all of them unwrap.
#[derive(Clone)]
pub struct MasterKeyRing {
    current: u32,
    keys: Vec<(u32, Zeroizing<[u8; 32]>)>,
}

impl std::fmt::Debug for MasterKeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKeyRing")
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

/// A subject key wrapped by a master key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub master_key_id: u32,
    /// nonce (12 bytes) followed by the ciphertext.
    pub bytes: Vec<u8>,
}

impl MasterKeyRing {
    /// Parses `id:base64key[,id:base64key...]`; the first entry is the current key.
    pub fn parse(spec: &str) -> Result<Self, CryptoError> {
        let mut keys = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (id, key) = part.split_once(':').ok_or(CryptoError::Malformed)?;
            let id: u32 = id.parse().map_err(|_| CryptoError::Malformed)?;
            let bytes = B64.decode(key).map_err(|_| CryptoError::Malformed)?;
            let arr: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| CryptoError::Malformed)?;
            keys.push((id, Zeroizing::new(arr)));
        }
        let current = keys
            .first()
            .map(|(id, _)| *id)
            .ok_or(CryptoError::Malformed)?;
        Ok(MasterKeyRing { current, keys })
    }

    /// A fresh random key spec, for `kansrijk keys generate` and the local stack.
    pub fn generate_spec(id: u32) -> String {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        format!("{id}:{}", B64.encode(k))
    }

    pub fn current_id(&self) -> u32 {
        self.current
    }

    fn key(&self, id: u32) -> Result<&[u8; 32], CryptoError> {
        self.keys
            .iter()
            .find(|(k, _)| *k == id)
            .map(|(_, k)| &**k)
            .ok_or(CryptoError::UnknownMasterKey(id))
    }

    pub fn wrap(&self, key: &SubjectKey) -> Result<WrappedKey, CryptoError> {
        let (nonce, ct) = aead_seal(self.key(self.current)?, key.expose_bytes(), &key.aad())?;
        let mut bytes = nonce.to_vec();
        bytes.extend(ct);
        Ok(WrappedKey {
            master_key_id: self.current,
            bytes,
        })
    }

    pub fn unwrap_key(
        &self,
        subject: Uuid,
        version: u32,
        wrapped: &WrappedKey,
    ) -> Result<SubjectKey, CryptoError> {
        if wrapped.bytes.len() < 12 {
            return Err(CryptoError::Malformed);
        }
        let shell = SubjectKey {
            subject,
            version,
            key: Zeroizing::new([0; 32]),
        };
        let plain = Zeroizing::new(aead_open(
            self.key(wrapped.master_key_id)?,
            &wrapped.bytes[..12],
            &wrapped.bytes[12..],
            &shell.aad(),
        )?);
        SubjectKey::from_bytes(subject, version, &plain)
    }
}

/// Keyed pseudonyms: HMAC-SHA256 over a domain and a value, hex encoded.
#[derive(Clone)]
pub struct Pseudonymizer {
    key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Pseudonymizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymizer")
    }
}

impl Pseudonymizer {
    pub fn new(key: &[u8]) -> Self {
        Pseudonymizer {
            key: Zeroizing::new(key.to_vec()),
        }
    }

    /// The pseudonym of `value` in `domain` (e.g. `bsn`): stable, not reversible without the key.
    pub fn pseudonym(&self, domain: &str, value: &str) -> String {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let out = mac.finalize().into_bytes();
        out.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sealed_values_open_only_with_their_key() {
        let s = Uuid::new_v4();
        let k = SubjectKey::generate(s, 1);
        let sealed = k.seal(&"Fatima".to_string()).unwrap();
        assert!(!sealed.ciphertext.contains("Fatima"));
        assert_eq!(k.open(&sealed).unwrap(), "Fatima");
        let other = SubjectKey::generate(s, 1);
        assert_eq!(other.open(&sealed), Err(CryptoError::Open));
        let wrong_subject = SubjectKey::generate(Uuid::new_v4(), 1);
        assert_eq!(wrong_subject.open(&sealed), Err(CryptoError::WrongKey));
    }

    #[test]
    fn master_key_rotation_keeps_old_wraps_readable() {
        let old = MasterKeyRing::parse(&MasterKeyRing::generate_spec(1)).unwrap();
        let k = SubjectKey::generate(Uuid::new_v4(), 1);
        let wrapped = old.wrap(&k).unwrap();
        let old_spec_key = B64.encode(**old.keys.first().map(|(_, k)| k).unwrap());
        let rotated = MasterKeyRing::parse(&format!(
            "{},1:{old_spec_key}",
            MasterKeyRing::generate_spec(2)
        ))
        .unwrap();
        assert_eq!(rotated.current_id(), 2);
        let back = rotated.unwrap_key(k.subject, 1, &wrapped).unwrap();
        assert_eq!(back.expose_bytes(), k.expose_bytes());
        assert_eq!(rotated.wrap(&k).unwrap().master_key_id, 2);
    }

    #[test]
    fn pseudonyms_are_keyed_and_domain_separated() {
        let a = Pseudonymizer::new(b"key-a");
        let b = Pseudonymizer::new(b"key-b");
        assert_eq!(
            a.pseudonym("bsn", "111222333"),
            a.pseudonym("bsn", "111222333")
        );
        assert_ne!(
            a.pseudonym("bsn", "111222333"),
            b.pseudonym("bsn", "111222333")
        );
        assert_ne!(
            a.pseudonym("bsn", "111222333"),
            a.pseudonym("other", "111222333")
        );
    }

    proptest! {
        #[test]
        fn opening_tampered_ciphertext_fails_cleanly(flip in 0usize..64, text in "\\PC{0,40}") {
            let k = SubjectKey::generate(Uuid::new_v4(), 3);
            let mut sealed = k.seal(&text).unwrap();
            let mut raw = B64.decode(&sealed.ciphertext).unwrap();
            let i = flip % raw.len();
            raw[i] ^= 0x01;
            sealed.ciphertext = B64.encode(raw);
            prop_assert!(k.open(&sealed).is_err());
        }
    }
}
