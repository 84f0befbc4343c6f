-- Which district (wijk) an address lies in, filled by `kansrijk registry import postcodes` (from
-- the CBS table "postcode, huisnummer, buurt en wijk", converted to district names). A row without
-- a house number covers the whole postcode. Organisation-level reference data, no personal data.
CREATE TABLE postcode_districts (
    municipality char(4) NOT NULL REFERENCES municipalities (cbs_code),
    postcode     char(6) NOT NULL CHECK (postcode ~ '^[1-9][0-9]{3}[A-Z]{2}$'),
    house_number integer CHECK (house_number > 0),
    district     text NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (municipality, district) REFERENCES districts (municipality, name)
);
-- An address is in one place: one row per postcode and house number (NULL: the whole postcode).
CREATE UNIQUE INDEX postcode_districts_address
    ON postcode_districts (postcode, COALESCE(house_number, 0));
CREATE INDEX postcode_districts_district ON postcode_districts (municipality, district);

-- What the DUO and LRK imports know about a location besides its name: its address, postcode
-- and (childcare) its LRK type (KDV, BSO). NULL where the source does not say.
ALTER TABLE schools ADD COLUMN address text, ADD COLUMN postcode text;
ALTER TABLE childcare_locations
    ADD COLUMN location_type text CHECK (location_type IN ('KDV', 'BSO', 'VGO', 'GOB')),
    ADD COLUMN address text,
    ADD COLUMN postcode text;
