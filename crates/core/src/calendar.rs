//! The national working-day calendar of Kazakhstan and working-hours arithmetic.
//!
//! Holidays: Law No 267-II of 13.12.2001 "On holidays in the Republic of Kazakhstan",
//! art. 5, in the wording of each year; a holiday that falls on a day off moves the day off
//! to the next working day (Labour Code, art. 85 of 2015 / art. 84 of 2007), except
//! 7 January and the first day of Kurban Ait; the government's yearly transfers of days
//! off are data (`catalog/calendar/kz.toml`), so an administrator extends them without a
//! rebuild.

use std::collections::BTreeMap;
use std::fmt;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::text::Text;

/// A count of working days (рабочие дни).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct WorkingDays(pub u16);

impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} working day(s)", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("the calendar covers {from} to {to}; {date} is outside it")]
    OutOfRange { date: Date, from: i16, to: i16 },
    #[error("{0}")]
    Invalid(String),
    #[error("date arithmetic overflowed")]
    Overflow,
}

/// Why a day is or is not a working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayReason {
    Weekday,
    Weekend,
    /// A public holiday (праздничный день).
    Holiday {
        id: String,
        name: Text,
    },
    /// The day off that a holiday falling on a day off moved here.
    MovedHoliday {
        id: String,
        name: Text,
        from: Date,
    },
    /// A working day made a day off by the government's transfer (перенос).
    TransferOff {
        cite: String,
    },
    /// A day off made a working day by the government's transfer.
    TransferWork {
        cite: String,
    },
}

impl DayReason {
    /// A short English description, for the command line.
    pub fn describe(&self) -> String {
        match self {
            DayReason::Weekday => "weekday".into(),
            DayReason::Weekend => "weekend".into(),
            DayReason::Holiday { name, .. } => format!("holiday: {}", name.en),
            DayReason::MovedHoliday { name, from, .. } => {
                format!("moved holiday: {} ({from})", name.en)
            }
            DayReason::TransferOff { cite } => format!("transfer, day off: {cite}"),
            DayReason::TransferWork { cite } => format!("transfer, working day: {cite}"),
        }
    }
}

/// One day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Day {
    pub date: Date,
    pub working: bool,
    pub reason: DayReason,
}

/// A holiday as `catalog/calendar/kz.toml` defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayDef {
    pub id: String,
    pub name: Text,
    /// Month-day pairs (`"03-21"`), every year in `from..=to`.
    #[serde(default)]
    pub dates: Vec<String>,
    /// Per-year dates, for holidays that move every year (Kurban Ait).
    #[serde(default)]
    pub on: Vec<Date>,
    pub from: Option<i16>,
    pub to: Option<i16>,
    pub moves: bool,
    pub cite: String,
}

/// A transfer of a day off by the government, as the data file defines it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferDef {
    pub year: i16,
    pub off: Option<Date>,
    pub work: Option<Date>,
    pub cite: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[serde(default)]
    holiday: Vec<HolidayDef>,
    #[serde(default)]
    transfer: Vec<TransferDef>,
}

/// The national calendar over a range of whole years.
#[derive(Debug, Clone)]
pub struct Calendar {
    from: i16,
    to: i16,
    /// Days that are not plain weekdays or weekends.
    special: BTreeMap<Date, (bool, DayReason)>,
    /// The government's transfers as the data file lists them.
    transfers: Vec<TransferDef>,
    /// The holidays it was built from, to rebuild it with more transfers.
    holidays: Vec<HolidayDef>,
}

fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

fn next_day(d: Date) -> Result<Date, CalendarError> {
    d.tomorrow().map_err(|_| CalendarError::Overflow)
}

impl Calendar {
    /// Parses the calendar data file. Errors name the line where TOML locates them.
    pub fn from_toml(text: &str) -> Result<Calendar, CalendarError> {
        let file: CalendarFile =
            toml::from_str(text).map_err(|e| CalendarError::Invalid(e.to_string()))?;
        Calendar::build(&file.holiday, &file.transfer)
    }

    /// Builds the calendar. It covers the years for which every per-year holiday
    /// (`on`, e.g. Kurban Ait) has a date: outside them a working-day count would be a guess.
    pub fn build(
        holidays: &[HolidayDef],
        transfers: &[TransferDef],
    ) -> Result<Calendar, CalendarError> {
        let mut from = i16::MIN;
        let mut to = i16::MAX;
        let mut any_per_year = false;
        for h in holidays.iter().filter(|h| !h.on.is_empty()) {
            any_per_year = true;
            let mut years: Vec<i16> = h.on.iter().map(|d| d.year()).collect();
            years.sort_unstable();
            years.dedup();
            let (lo, hi) = (years[0], years[years.len() - 1]);
            if years.len() != (hi - lo + 1) as usize {
                return Err(CalendarError::Invalid(format!(
                    "holiday {}: a date is missing for some year between {lo} and {hi}",
                    h.id
                )));
            }
            from = from.max(lo);
            to = to.min(hi);
        }
        if !any_per_year || from > to {
            return Err(CalendarError::Invalid(
                "no range of years where every per-year holiday (`on`) has a date".into(),
            ));
        }
        let mut special: BTreeMap<Date, (bool, DayReason)> = BTreeMap::new();
        let mut movable: Vec<(Date, &HolidayDef)> = Vec::new();
        for h in holidays {
            if !h.dates.is_empty() && !h.on.is_empty() {
                return Err(CalendarError::Invalid(format!(
                    "holiday {}: give either `dates` or `on`, not both",
                    h.id
                )));
            }
            let mut days: Vec<Date> = h.on.clone();
            for year in h.from.unwrap_or(from).max(from)..=h.to.unwrap_or(to).min(to) {
                for md in &h.dates {
                    let d = parse_month_day(year, md)
                        .map_err(|e| CalendarError::Invalid(format!("holiday {}: {e}", h.id)))?;
                    days.push(d);
                }
            }
            for d in days.into_iter().filter(|d| (from..=to).contains(&d.year())) {
                let reason = DayReason::Holiday {
                    id: h.id.clone(),
                    name: h.name.clone(),
                };
                if special.insert(d, (false, reason)).is_some() {
                    return Err(CalendarError::Invalid(format!(
                        "holiday {} falls on {d}, already a holiday",
                        h.id
                    )));
                }
                if h.moves && is_weekend(d) {
                    movable.push((d, h));
                }
            }
        }
        // A holiday on a day off moves the day off to the next working day, in date order,
        // so that two holidays on one weekend take the next two working days.
        movable.sort_by_key(|(d, _)| *d);
        for (d, h) in movable {
            let mut m = next_day(d)?;
            while is_weekend(m) || special.contains_key(&m) {
                m = next_day(m)?;
            }
            special.insert(
                m,
                (
                    false,
                    DayReason::MovedHoliday {
                        id: h.id.clone(),
                        name: h.name.clone(),
                        from: d,
                    },
                ),
            );
        }
        for t in transfers {
            if t.off.is_none() && t.work.is_none() {
                return Err(CalendarError::Invalid(format!(
                    "transfer of {}: needs `off` or `work`",
                    t.year
                )));
            }
            if let Some(off) = t.off {
                if off.year() != t.year || is_weekend(off) || special.contains_key(&off) {
                    return Err(CalendarError::Invalid(format!(
                        "transfer {off}: the day made off must be a working weekday of {}",
                        t.year
                    )));
                }
                special.insert(
                    off,
                    (
                        false,
                        DayReason::TransferOff {
                            cite: t.cite.clone(),
                        },
                    ),
                );
            }
            if let Some(work) = t.work {
                // A weekend day, or a day off that a holiday moved there (2020: 9 May fell
                // on Saturday, moved to Monday 11 May, which the decree then transferred
                // to Friday 8 May).
                let movable = match special.get(&work) {
                    None => is_weekend(work),
                    Some((_, DayReason::MovedHoliday { .. })) => true,
                    Some(_) => false,
                };
                if !movable {
                    return Err(CalendarError::Invalid(format!(
                        "transfer {work}: the day made working must be a weekend day or a moved day off"
                    )));
                }
                special.insert(
                    work,
                    (
                        true,
                        DayReason::TransferWork {
                            cite: t.cite.clone(),
                        },
                    ),
                );
            }
        }
        Ok(Calendar {
            from,
            to,
            special,
            transfers: transfers.to_vec(),
            holidays: holidays.to_vec(),
        })
    }

    /// This calendar with more transfers (an administrator's, kept in the database):
    /// validated like the data file's.
    pub fn with_transfers(&self, extra: &[TransferDef]) -> Result<Calendar, CalendarError> {
        let all: Vec<TransferDef> = self.transfers.iter().chain(extra).cloned().collect();
        Calendar::build(&self.holidays, &all)
    }

    /// The government's transfers of days off, in the order of the data file (each with
    /// the decree it cites).
    pub fn transfers(&self) -> &[TransferDef] {
        &self.transfers
    }

    /// The first and last year covered.
    pub fn years(&self) -> (i16, i16) {
        (self.from, self.to)
    }

    fn check(&self, d: Date) -> Result<(), CalendarError> {
        if (self.from..=self.to).contains(&d.year()) {
            Ok(())
        } else {
            Err(CalendarError::OutOfRange {
                date: d,
                from: self.from,
                to: self.to,
            })
        }
    }

    /// The day, working or not, and why.
    pub fn day(&self, date: Date) -> Result<Day, CalendarError> {
        self.check(date)?;
        let (working, reason) = match self.special.get(&date) {
            Some((w, r)) => (*w, r.clone()),
            None if is_weekend(date) => (false, DayReason::Weekend),
            None => (true, DayReason::Weekday),
        };
        Ok(Day {
            date,
            working,
            reason,
        })
    }

    pub fn is_working(&self, date: Date) -> Result<bool, CalendarError> {
        self.check(date)?;
        Ok(match self.special.get(&date) {
            Some((w, _)) => *w,
            None => !is_weekend(date),
        })
    }

    /// True for a holiday, a moved holiday or a transferred day off: days no unit works,
    /// whatever its own weekly schedule.
    pub fn is_day_off_by_law(&self, date: Date) -> Result<bool, CalendarError> {
        self.check(date)?;
        Ok(matches!(self.special.get(&date), Some((false, _))))
    }

    /// The `n`th working day after `from` (not counting `from`); `from` itself for 0.
    pub fn add_working_days(&self, from: Date, n: WorkingDays) -> Result<Date, CalendarError> {
        let mut d = from;
        let mut left = n.0;
        while left > 0 {
            d = next_day(d)?;
            if self.is_working(d)? {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// The number of working days `d` with `from < d <= to` (negative when `to < from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<i64, CalendarError> {
        let (lo, hi, sign) = if from <= to {
            (from, to, 1)
        } else {
            (to, from, -1)
        };
        let mut n = 0i64;
        let mut d = lo;
        while d < hi {
            d = next_day(d)?;
            if self.is_working(d)? {
                n += 1;
            }
        }
        Ok(n * sign)
    }

    /// The date on which the `n`th working day of a term ends. With `day_of_entry` (the
    /// seeds' "1 рабочий день (день оформления)") the day of entry counts as the first
    /// when it is a working day; otherwise the term starts the next day.
    pub fn term_end(
        &self,
        entry: Date,
        n: WorkingDays,
        day_of_entry: bool,
    ) -> Result<Date, CalendarError> {
        if day_of_entry && n.0 > 0 && self.is_working(entry)? {
            self.add_working_days(entry, WorkingDays(n.0 - 1))
        } else {
            self.add_working_days(entry, n)
        }
    }

    /// The next working day on or after `d` (Civil Code: a term whose last day is a day
    /// off ends on the next working day).
    pub fn working_on_or_after(&self, d: Date) -> Result<Date, CalendarError> {
        let mut d = d;
        while !self.is_working(d)? {
            d = next_day(d)?;
        }
        Ok(d)
    }

    /// Every day from `from` to `to` inclusive.
    pub fn days(&self, from: Date, to: Date) -> Result<Vec<Day>, CalendarError> {
        let mut out = Vec::new();
        let mut d = from;
        while d <= to {
            out.push(self.day(d)?);
            d = next_day(d)?;
        }
        Ok(out)
    }
}

fn parse_month_day(year: i16, md: &str) -> Result<Date, String> {
    let (m, d) = md
        .split_once('-')
        .ok_or_else(|| format!("{md:?} is not MM-DD"))?;
    let m: i8 = m.parse().map_err(|_| format!("{md:?} is not MM-DD"))?;
    let d: i8 = d.parse().map_err(|_| format!("{md:?} is not MM-DD"))?;
    Date::new(year, m, d).map_err(|e| format!("{md:?} in {year}: {e}"))
}

/// A unit's working hours: the weekdays it opens, opening and closing times and a lunch
/// break. Limits in minutes and hours run only inside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkingHours {
    /// Days of the week the unit opens, Monday first.
    pub weekdays: [bool; 7],
    pub open: Time,
    pub close: Time,
    pub lunch: Option<(Time, Time)>,
}

impl Default for WorkingHours {
    /// Monday to Friday 09:00-18:00, lunch 13:00-14:00.
    fn default() -> Self {
        WorkingHours {
            weekdays: [true, true, true, true, true, false, false],
            open: jiff::civil::time(9, 0, 0, 0),
            close: jiff::civil::time(18, 0, 0, 0),
            lunch: Some((
                jiff::civil::time(13, 0, 0, 0),
                jiff::civil::time(14, 0, 0, 0),
            )),
        }
    }
}

impl WorkingHours {
    /// Checks that the times are in order.
    pub fn validate(&self) -> Result<(), CalendarError> {
        if self.open >= self.close {
            return Err(CalendarError::Invalid(
                "opening must be before closing".into(),
            ));
        }
        if let Some((a, b)) = self.lunch {
            if !(self.open < a && a < b && b < self.close) {
                return Err(CalendarError::Invalid(
                    "lunch must lie inside working hours".into(),
                ));
            }
        }
        if !self.weekdays.iter().any(|d| *d) {
            return Err(CalendarError::Invalid("no working weekday".into()));
        }
        Ok(())
    }

    /// Is the unit open on that date: never on a day off by law; on its own weekdays; and
    /// on a weekend day that a transfer made working.
    pub fn open_on(&self, cal: &Calendar, d: Date) -> Result<bool, CalendarError> {
        if cal.is_day_off_by_law(d)? {
            return Ok(false);
        }
        let own = self.weekdays[d.weekday().to_monday_zero_offset() as usize];
        Ok(own || cal.is_working(d)?)
    }

    /// The open intervals of a date (empty when closed).
    pub fn intervals(
        &self,
        cal: &Calendar,
        d: Date,
    ) -> Result<Vec<(DateTime, DateTime)>, CalendarError> {
        if !self.open_on(cal, d)? {
            return Ok(Vec::new());
        }
        Ok(match self.lunch {
            Some((a, b)) => vec![
                (d.to_datetime(self.open), d.to_datetime(a)),
                (d.to_datetime(b), d.to_datetime(self.close)),
            ],
            None => vec![(d.to_datetime(self.open), d.to_datetime(self.close))],
        })
    }

    /// The instant `amount` of working time after `start` (local civil time): time outside
    /// working hours does not count. A start outside hours counts from the next opening.
    pub fn add_working_time(
        &self,
        cal: &Calendar,
        start: DateTime,
        amount: SignedDuration,
    ) -> Result<DateTime, CalendarError> {
        let mut left = amount;
        let mut day = start.date();
        // A bound on the search: a unit closed for more than a year is a data error.
        for _ in 0..400 {
            for (a, b) in self.intervals(cal, day)? {
                if b <= start {
                    continue;
                }
                let from = if a > start { a } else { start };
                let span = b.duration_since(from);
                if left <= span {
                    return from.checked_add(left).map_err(|_| CalendarError::Overflow);
                }
                left -= span;
            }
            day = next_day(day)?;
        }
        Err(CalendarError::Invalid(
            "the unit is not open within a year".into(),
        ))
    }

    /// The end of the unit's working day on `d`: a term in days ends at close of business
    /// (Civil Code of Kazakhstan, art. 176 p. 1: an act to be done in an organisation is due
    /// by the hour its operations end).
    pub fn close_of(&self, d: Date) -> DateTime {
        d.to_datetime(self.close)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    /// A small calendar for unit tests of the rules (the real data is tested in tests/).
    fn cal() -> Calendar {
        Calendar::from_toml(
            r#"
[[holiday]]
id = "nauryz"
name = { kk = "Наурыз", ru = "Наурыз", en = "Nauryz" }
dates = ["03-21", "03-22", "03-23"]
moves = true
cite = "test"
[[holiday]]
id = "kurban_ait"
name = { kk = "Құрбан айт", ru = "Курбан айт", en = "Kurban Ait" }
on = ["2020-07-31", "2021-07-20"]
moves = false
cite = "test"
[[transfer]]
year = 2020
off = "2020-03-26"
work = "2020-03-29"
cite = "test decree"
"#,
        )
        .unwrap()
    }

    #[test]
    fn weekend_holidays_move_in_order() {
        let c = cal();
        // 2020-03-21 Sat and 22 Sun move to Tue 24 and Wed 25; 23 is Monday's holiday.
        for d in [21, 22, 23, 24, 25, 26] {
            assert!(!c.is_working(date(2020, 3, d)).unwrap(), "March {d}");
        }
        assert!(c.is_working(date(2020, 3, 27)).unwrap());
        assert!(
            c.is_working(date(2020, 3, 29)).unwrap(),
            "transferred Sunday works"
        );
        assert!(matches!(
            c.day(date(2020, 3, 24)).unwrap().reason,
            DayReason::MovedHoliday { .. }
        ));
    }

    #[test]
    fn out_of_range_is_an_error() {
        assert!(matches!(
            cal().is_working(date(2022, 1, 3)),
            Err(CalendarError::OutOfRange { .. })
        ));
    }

    #[test]
    fn term_end_with_and_without_day_of_entry() {
        let c = cal();
        let fri = date(2021, 3, 19);
        assert_eq!(c.term_end(fri, WorkingDays(1), true).unwrap(), fri);
        // 2021-03-22 and 23 are Nauryz (Mon, Tue); 21 Sunday moves to Wed 24.
        assert_eq!(
            c.term_end(fri, WorkingDays(1), false).unwrap(),
            date(2021, 3, 25)
        );
        let sat = date(2021, 3, 20);
        assert_eq!(
            c.term_end(sat, WorkingDays(1), true).unwrap(),
            date(2021, 3, 25)
        );
    }

    #[test]
    fn working_time_skips_lunch_and_nights() {
        let c = cal();
        let h = WorkingHours::default();
        let start = date(2021, 3, 19).at(12, 50, 0, 0);
        let end = h
            .add_working_time(&c, start, SignedDuration::from_mins(30))
            .unwrap();
        assert_eq!(end, date(2021, 3, 19).at(14, 20, 0, 0));
        let late = date(2021, 3, 19).at(17, 50, 0, 0);
        let end = h
            .add_working_time(&c, late, SignedDuration::from_mins(30))
            .unwrap();
        assert_eq!(end, date(2021, 3, 25).at(9, 20, 0, 0));
    }
}
