//! Fictional people for the demo world and the benchmarks: names common in Leiden's districts
//! and BSNs that pass the 11-proef but start with 9 (no real person has one yet). One list for
//! every service's demo data.

use rand::Rng;

/// Given names.
pub const GIVEN_NAMES: &[&str] = &[
    "Noah", "Sem", "Liam", "Lucas", "Daan", "Finn", "Levi", "Milan", "Adam", "Mohamed", "Yusuf",
    "Ayoub", "Emma", "Julia", "Mila", "Tess", "Sophie", "Zoë", "Nora", "Sara", "Fatima", "Aya",
    "Lina", "Maryam", "Elif", "Amira", "Noor", "Ibrahim", "Omar", "Hamza", "Mees", "Luuk",
];

/// Family names.
pub const FAMILY_NAMES: &[&str] = &[
    "de Jong",
    "Jansen",
    "de Vries",
    "van den Berg",
    "van Dijk",
    "Bakker",
    "Janssen",
    "Visser",
    "Smit",
    "Meijer",
    "Yilmaz",
    "El Amrani",
    "Bouzid",
    "Kaya",
    "Öztürk",
    "Haddou",
    "Nguyen",
    "Mohammadi",
    "Pinas",
    "Martina",
    "Kowalski",
    "van Leeuwen",
    "Mulder",
    "de Groot",
    "Bos",
];

/// A fictional BSN: starts with 9 and passes the 11-proef.
pub fn bsn<R: Rng + ?Sized>(rng: &mut R) -> String {
    loop {
        let digits: Vec<i64> = std::iter::once(9)
            .chain((0..7).map(|_| rng.gen_range(0..10)))
            .collect();
        let partial: i64 = digits
            .iter()
            .zip([9i64, 8, 7, 6, 5, 4, 3, 2])
            .map(|(d, w)| d * w)
            .sum();
        // partial - last ≡ 0 (mod 11) with last in 0..=9.
        let last = partial % 11;
        if last <= 9 {
            return digits
                .iter()
                .chain(std::iter::once(&last))
                .map(|d| d.to_string())
                .collect();
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    #[test]
    fn fictional_bsns_pass_the_11_proef_and_start_with_9() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..1000 {
            let b = super::bsn(&mut rng);
            let d: Vec<i64> = b.bytes().map(|c| i64::from(c - b'0')).collect();
            let sum: i64 = d[..8]
                .iter()
                .zip([9, 8, 7, 6, 5, 4, 3, 2])
                .map(|(x, w)| x * w)
                .sum::<i64>()
                - d[8];
            assert!(b.len() == 9 && b.starts_with('9') && sum % 11 == 0, "{b}");
        }
    }
}
