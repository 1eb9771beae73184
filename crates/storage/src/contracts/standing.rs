//! A contractor's standing for eligibility (R6): the book and designations the rules read.

use jiff::civil::Date;
use mpc_domain::book::{Book, Contract};
use mpc_domain::eligibility::{self, Designation, Standing, Unmet};
use sqlx::AnyConnection;

use super::requests::Result;
use crate::Store;
use crate::contracts::parties::designations;
use crate::contracts::{date, load_book, load_contract, opt_date};

/// A contractor's standing for eligibility (R6) on `on`.
#[derive(Clone)]
pub struct StandingData {
    pub contractor_id: String,
    pub book: Book,
    pub designations: Vec<Designation>,
    pub managements: Vec<Contract>,
    pub designated_services: Vec<(Date, Option<Date>)>,
}

impl StandingData {
    pub fn standing(&self, on: Date) -> Standing<'_> {
        Standing {
            contractor_id: &self.contractor_id,
            book: &self.book,
            designations: &self.designations,
            designated_managements: &self.managements,
            designated_services: self
                .designated_services
                .iter()
                .filter(|(from, until)| *from <= on && until.is_none_or(|u| u > on))
                .count(),
        }
    }
}

pub async fn load_standing(conn: &mut AnyConnection, contractor_id: &str) -> Result<StandingData> {
    let book = load_book(conn, contractor_id).await?;
    let designations = designations(conn, "rider_contractor_id", contractor_id).await?;
    let mut managements = Vec::new();
    for d in &designations {
        if let Some(m) = load_contract(conn, &d.management_contract_id).await? {
            managements.push(m);
        }
    }
    let services: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT registered_on, ended_on FROM designated_services WHERE contractor_id = $1",
    )
    .bind(contractor_id.to_owned())
    .fetch_all(conn)
    .await?;
    Ok(StandingData {
        contractor_id: contractor_id.to_owned(),
        book,
        designations,
        managements,
        designated_services: services
            .into_iter()
            .map(|(from, until)| Ok((date(&from)?, opt_date(until)?)))
            .collect::<Result<Vec<_>>>()?,
    })
}

/// What R6.1 requirements a contractor misses on `on`.
pub async fn eligibility(store: &Store, contractor_id: &str, on: Date) -> Result<Vec<Unmet>> {
    let mut conn = store.pool().acquire().await?;
    let data = load_standing(&mut conn, contractor_id).await?;
    Ok(eligibility::unmet(data.standing(on), on))
}
