//! Statements assembled at run time with `$n` placeholders.
//!
//! sqlx's `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL rejects; `$n` works
//! on both backends.

use crate::Result;
use sqlx::any::AnyArguments;
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, AssertSqlSafe, Encode, FromRow, Type};

/// `s` with `\`, `%` and `_` escaped by `\`, to match itself in `LIKE … ESCAPE '\'`.
pub(crate) fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

pub(crate) struct Sql {
    text: String,
    args: AnyArguments,
    error: Option<BoxDynError>,
    /// SQLite resolves numbered `$n` parameters by name, which is quadratic in their count; a
    /// statement with thousands of them (bulk inserts) binds anonymous `?`s instead.
    anonymous: bool,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql {
            text: text.to_owned(),
            args: AnyArguments::default(),
            error: None,
            anonymous: false,
        }
    }

    /// A statement for `backend` whose placeholders follow each other in binding order.
    pub fn positional(backend: crate::Backend, text: &str) -> Self {
        Sql {
            anonymous: backend == crate::Backend::Sqlite,
            ..Sql::new(text)
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
        if self.anonymous {
            self.text.push('?');
        } else {
            self.text.push_str(&format!("${}", self.args.len()));
        }
        self
    }

    /// Appends `(p, p, …)` bound to `values`, for `IN` lists; callers keep lists to a chunk.
    pub fn bind_list<T>(&mut self, values: impl IntoIterator<Item = T>) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any>,
    {
        self.push("(");
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v);
        }
        self.push(")")
    }

    /// Appends a row of a `VALUES` list: `(`, or `, (` after the first, the placeholders `row`
    /// binds, separated by commas, then `)`.
    pub fn row(&mut self, first: bool, row: impl FnOnce(&mut Row<'_>)) -> &mut Self {
        self.push(if first { "(" } else { ", (" });
        row(&mut Row {
            sql: self,
            bound: false,
        });
        self.push(")")
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

/// One row of a `VALUES` list being bound (see [`Sql::row`]).
pub(crate) struct Row<'s> {
    sql: &'s mut Sql,
    bound: bool,
}

impl Row<'_> {
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: for<'q> Encode<'q, Any> + Type<Any>,
    {
        if self.bound {
            self.sql.push(", ");
        }
        self.bound = true;
        self.sql.bind(value);
        self
    }
}
