//! Issuer (B3).

use super::*;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Issuer {
    pub name: String,
    pub registration_number: String,
    pub address: String,
    pub contact: String,
}

pub async fn issuer(conn: &mut AnyConnection) -> Result<Option<Issuer>> {
    Ok(sqlx::query_as(
        "SELECT name, registration_number, address, contact FROM issuer WHERE id = 1",
    )
    .fetch_optional(conn)
    .await?)
}

pub async fn set_issuer(tx: &mut WriteTx, i: &Issuer) -> Result<()> {
    invoice::check_registration_number(&i.registration_number)?;
    sqlx::query(
        "INSERT INTO issuer (id, name, registration_number, address, contact) VALUES (1, $1, $2, $3, $4) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, registration_number = excluded.registration_number, \
         address = excluded.address, contact = excluded.contact",
    )
    .bind(i.name.clone())
    .bind(i.registration_number.clone())
    .bind(i.address.clone())
    .bind(i.contact.clone())
    .execute(tx.conn())
    .await?;
    Ok(())
}
