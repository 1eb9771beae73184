//! Contractors, users and API tokens.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A contractor (契約者): the customer account that holds contracts.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Contractor {
    pub id: String,
    pub name: String,
    pub created_at: String,
    /// Postal code of the address, as `123-4567`; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Postal address; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The person to contact at the contractor; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Where invoices are sent by e-mail; absent when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_email: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ContractorList {
    pub contractors: Vec<Contractor>,
    /// Pass as `after` to read the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContractor {
    #[schema(example = "株式会社サンプル")]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContractor {
    /// The name invoices print (operators only).
    pub name: Option<String>,
    /// `123-4567` or `1234567`. For every record field (postal code, address, contact name,
    /// phone, billing e-mail): absent leaves it as it is, an empty string clears it.
    pub postal_code: Option<String>,
    /// At most 200 characters.
    pub address: Option<String>,
    /// At most 100 characters.
    pub contact_name: Option<String>,
    /// Digits with `+`, `-`, spaces or parentheses, at most 30 characters.
    pub phone: Option<String>,
    /// An e-mail address, at most 254 characters.
    #[schema(example = "keiri@example.co.jp")]
    pub billing_email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the service: sees and changes every contractor's data.
    Operator,
    /// Acts for one contractor: sees and changes only that contractor's data.
    Contractor,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The contractor a contractor user acts for; absent for operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractor_id: Option<String>,
    pub created_at: String,
    pub state: UserState,
    /// When an operator disabled the account; absent while it is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
    /// Until when failed console sign-ins hold the username back (from the addresses that
    /// failed); absent when nothing does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<String>,
    /// Its console password was set by someone else (an operator's reset, the first start)
    /// and must be replaced at the next console sign-in before any other console page opens.
    /// API tokens are separate credentials and keep working meanwhile.
    pub password_change_required: bool,
}

/// Whether a user can sign in now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserState {
    /// Signs in and uses its API tokens.
    Active,
    /// Disabled by an operator: no sign-in, no session, no API token until enabled again.
    Disabled,
    /// Failed console sign-ins make it wait (`locked_until`); its API tokens still work.
    Locked,
}

/// A console password an operator just made for a user: the only time it is shown. It is
/// temporary: the user's next console sign-in asks for their own.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordReset {
    pub user_id: String,
    /// The new console password. It cannot be shown again.
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A new user account. `contractor_id` is required for contractor users and refused for
/// operators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(example = "yamada")]
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub contractor_id: Option<String>,
}

/// A new user of the contractor named in the path.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContractorUser {
    pub username: String,
    pub display_name: Option<String>,
}

/// An API token, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Token {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    #[schema(example = "billing script")]
    pub label: String,
}

/// A token just made: the only time its secret is shown.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub token: Token,
    /// Send as `Authorization: Bearer <secret>`. It cannot be shown again.
    pub secret: String,
}
