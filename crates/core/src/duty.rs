//! The monthly calculation index (месячный расчётный показатель, МРП / айлық есептік
//! көрсеткіш, АЕК) as dated data, and the state duty for an ID card computed from it.
//!
//! The МРП is set for each calendar year by the law on the republican budget:
//! 2024: 3 692 ₸ (Law of 05.12.2023 No 46-VIII), 2025: 3 932 ₸ (Law of 21.11.2024
//! No 136-VIII), 2026: 4 325 ₸ (Law on the republican budget for 2026-2028). The state
//! duty for issuing an ID card is 0.2 МРП (Tax Code, art. 615/622; seed 001 п. 3 step 15).

/// МРП in whole tenge by calendar year.
pub const MRP_BY_YEAR: &[(i16, u64)] = &[(2024, 3692), (2025, 3932), (2026, 4325)];

/// The МРП of `year`, when known.
pub fn mrp(year: i16) -> Option<u64> {
    MRP_BY_YEAR
        .iter()
        .find(|(y, _)| *y == year)
        .map(|(_, v)| *v)
}

/// The state duty for issuing an ID card in `year`: 0.2 МРП, rounded to whole tenge
/// (half up), e.g. 2025: 0.2 × 3 932 = 786.4 → 786 ₸.
pub fn id_card_duty(year: i16) -> Option<u64> {
    mrp(year).map(|m| (m * 2 + 5) / 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duty_is_a_fifth_of_the_years_mrp() {
        assert_eq!(mrp(2025), Some(3932));
        assert_eq!(id_card_duty(2024), Some(738));
        assert_eq!(id_card_duty(2025), Some(786));
        assert_eq!(id_card_duty(2026), Some(865));
        assert_eq!(id_card_duty(2019), None);
    }
}
