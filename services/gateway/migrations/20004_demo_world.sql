-- The local stack's demo world is generated relative to one date: the day it was first loaded.
-- Keeping that date makes `kansrijk up` idempotent on any later day (the same commands, the same
-- command ids). Only the demo loader writes here; production never has a row.
CREATE TABLE demo_world (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    anchored_on date NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);
