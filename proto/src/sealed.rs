//! Personal data on the wire and at rest: an AEAD ciphertext under the data subject's key.
//! The cryptography lives in the runtime; this is only the wire form, typed by what it holds so
//! that a reader knows what it gets when it opens it.

use std::marker::PhantomData;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Ciphertext of a `T`, sealed with the key of data subject `subject`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sealed<T> {
    /// Algorithm, e.g. `AES-256-GCM-SIV`.
    pub alg: String,
    /// The data subject whose key sealed this value (a pseudonymous id).
    pub subject: Uuid,
    /// Key generation of that subject (keys are rotated, never reused).
    pub key_version: u32,
    /// Base64 nonce.
    pub nonce: String,
    /// Base64 ciphertext with tag.
    pub ciphertext: String,
    #[serde(skip)]
    _holds: PhantomData<fn() -> T>,
}

impl<T> Sealed<T> {
    pub fn new(
        alg: String,
        subject: Uuid,
        key_version: u32,
        nonce: String,
        ciphertext: String,
    ) -> Self {
        Sealed {
            alg,
            subject,
            key_version,
            nonce,
            ciphertext,
            _holds: PhantomData,
        }
    }
}

impl<T> Clone for Sealed<T> {
    fn clone(&self) -> Self {
        Sealed::new(
            self.alg.clone(),
            self.subject,
            self.key_version,
            self.nonce.clone(),
            self.ciphertext.clone(),
        )
    }
}

impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.alg == other.alg
            && self.subject == other.subject
            && self.key_version == other.key_version
            && self.nonce == other.nonce
            && self.ciphertext == other.ciphertext
    }
}

impl<T> std::fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never prints the ciphertext either: it is useless in logs and only adds noise.
        f.debug_struct("Sealed")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl<T: JsonSchema> JsonSchema for Sealed<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Sealed_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let inner = generator.subschema_for::<T>();
        schemars::json_schema!({
            "type": "object",
            "description": "AEAD ciphertext sealed with the data subject's key; `x-sealed` is the schema of the plaintext.",
            "required": ["alg", "subject", "keyVersion", "nonce", "ciphertext"],
            "properties": {
                "alg": { "type": "string", "x-data-category": "administrative" },
                "subject": { "type": "string", "format": "uuid", "x-data-category": "administrative" },
                "keyVersion": { "type": "integer", "minimum": 0, "x-data-category": "administrative" },
                "nonce": { "type": "string", "contentEncoding": "base64", "x-data-category": "administrative" },
                "ciphertext": { "type": "string", "contentEncoding": "base64", "x-data-category": "administrative" }
            },
            "x-sealed": inner
        })
    }
}
