-- The web UI's server-side sessions (kansrijk-web, mounted by the gateway). The browser holds a
-- random id in an encrypted cookie; this table holds only its SHA-256, so a copy of the table
-- cannot be replayed as a cookie, and knowing the cookie key does not make anyone a user: a
-- session exists only here. Logout deletes the row (every copy of the cookie stops working);
-- expired rows no longer count and are deleted at the next login.
CREATE TABLE web_sessions (
    id_hash    bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    -- The actor of the login (pseudonymous sub, organisation, role, municipality), the display
    -- name and the CSRF token: never anything about a child or family.
    session    jsonb NOT NULL,
    -- The provider's ID token: the id_token_hint of the logout at the provider.
    id_token   text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX web_sessions_expires_at ON web_sessions (expires_at);
