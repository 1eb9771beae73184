//! The preamble every operator form shares, as one extractor: the session, the form, its
//! token checked against the session's (CSRF), and operators only — in that order, so a
//! cross-site post is refused before anything else is told.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use serde::de::DeserializeOwned;

use super::only_operators;
use crate::AppState;
use crate::web::Session;

/// A form that carries the session's form token.
pub trait Csrf {
    fn csrf(&self) -> &str;
}

/// Implements [`Csrf`] for forms with a `csrf` field.
macro_rules! csrf_field {
    ($($form:ty),+ $(,)?) => {
        $(impl $crate::web::operator::form::Csrf for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        })+
    };
}
pub(super) use csrf_field;

/// A form posted by an operator with the session's token: 403 otherwise (a contractor, or a
/// post from another site); an unsigned visitor is sent to sign in, as for any page.
pub struct OperatorForm<T> {
    pub session: Session,
    pub form: T,
}

impl<T> FromRequest<AppState> for OperatorForm<T>
where
    T: DeserializeOwned + Csrf + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let Form(form) = Form::<T>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        session
            .check_csrf(form.csrf())
            .map_err(IntoResponse::into_response)?;
        only_operators(&session).map_err(IntoResponse::into_response)?;
        Ok(OperatorForm { session, form })
    }
}
