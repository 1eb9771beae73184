//! Statements assembled at run time with `$n` placeholders.
//!
//! sqlx's `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL rejects; `$n` works
//! on both backends.

use crate::Result;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, FromRow, Type};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    error: Option<BoxDynError>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            error: None,
        }
    }

    /// Appends SQL text; never pass user input here.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any>,
    {
        if let Err(e) = self.args.add(value) {
            self.error.get_or_insert(e);
        }
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    pub fn query_as<T>(self) -> Result<sqlx::query::QueryAs<'static, Any, T, AnyArguments>>
    where
        T: for<'r> FromRow<'r, sqlx::any::AnyRow>,
    {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e).into()),
            None => Ok(sqlx::query_as_with(AssertSqlSafe(self.text), self.args)),
        }
    }

    pub async fn execute(self, conn: &mut sqlx::AnyConnection) -> Result<u64> {
        match self.error {
            Some(e) => Err(sqlx::Error::Encode(e).into()),
            None => Ok(sqlx::query_with(AssertSqlSafe(self.text), self.args)
                .execute(conn)
                .await?
                .rows_affected()),
        }
    }
}
