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

/// How the issuer is reached and paid, printed on every invoice (B3): its phone and its bank
/// account (振込先: bank, branch, account type and number, holder). Kept apart from
/// [`Issuer`], which names the issuer; empty until set.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct IssuerPayment {
    pub phone: String,
    pub bank_account: String,
}

pub async fn issuer_payment(conn: &mut AnyConnection) -> Result<IssuerPayment> {
    Ok(
        sqlx::query_as("SELECT phone, bank_account FROM issuer WHERE id = 1")
            .fetch_optional(conn)
            .await?
            .unwrap_or_default(),
    )
}

/// Sets the phone and bank account of the issuer set by [`set_issuer`] (in the same
/// transaction, or after it).
pub async fn set_issuer_payment(tx: &mut WriteTx, p: &IssuerPayment) -> Result<()> {
    sqlx::query("UPDATE issuer SET phone = $1, bank_account = $2 WHERE id = 1")
        .bind(p.phone.clone())
        .bind(p.bank_account.clone())
        .execute(tx.conn())
        .await?;
    Ok(())
}
