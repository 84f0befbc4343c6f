-- Reference data: the municipalities of the programme and their districts (wijken).
INSERT INTO municipalities (cbs_code, name) VALUES
    ('0546', 'Leiden'),
    ('1916', 'Leidschendam-Voorburg')
ON CONFLICT (cbs_code) DO NOTHING;

INSERT INTO districts (municipality, name) VALUES
    ('0546', 'Binnenstad-Noord'),
    ('0546', 'Binnenstad-Zuid'),
    ('0546', 'Boerhaavedistrict'),
    ('0546', 'Bos- en Gasthuisdistrict'),
    ('0546', 'Leiden-Noord'),
    ('0546', 'Merenwijkdistrict'),
    ('0546', 'Morsdistrict'),
    ('0546', 'Roodenburgerdistrict'),
    ('0546', 'Stationsdistrict'),
    ('0546', 'Stevenshofdistrict'),
    ('0546', 'Tuinstadwijk'),
    ('1916', 'Leidschendam'),
    ('1916', 'Voorburg'),
    ('1916', 'Stompwijk')
ON CONFLICT DO NOTHING;
