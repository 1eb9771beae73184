//! Who may see and change what.
//!
//! Operators run the service and see every contractor; a contractor's users see only their own
//! contractor. Anything outside an actor's reach is reported as absent, never as forbidden, so
//! that ids of other contractors cannot be probed.

use serde::{Deserialize, Serialize};

/// The two kinds of user account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Contractor,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Contractor => "contractor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "operator" => Some(Role::Operator),
            "contractor" => Some(Role::Contractor),
            _ => None,
        }
    }
}

/// The authenticated party behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Operator {
        user_id: String,
    },
    Contractor {
        user_id: String,
        contractor_id: String,
    },
}

impl Actor {
    pub fn user_id(&self) -> &str {
        match self {
            Actor::Operator { user_id } | Actor::Contractor { user_id, .. } => user_id,
        }
    }

    pub fn is_operator(&self) -> bool {
        matches!(self, Actor::Operator { .. })
    }

    /// Whether this actor may see data belonging to `contractor_id`.
    pub fn sees_contractor(&self, contractor_id: &str) -> bool {
        match self {
            Actor::Operator { .. } => true,
            Actor::Contractor {
                contractor_id: own, ..
            } => own == contractor_id,
        }
    }

    /// The contractor a listing must be narrowed to, or `None` when the actor sees all.
    pub fn contractor_scope(&self) -> Option<&str> {
        match self {
            Actor::Operator { .. } => None,
            Actor::Contractor { contractor_id, .. } => Some(contractor_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contractor_sees_only_its_own_contractor() {
        let a = Actor::Contractor {
            user_id: "u1".into(),
            contractor_id: "c1".into(),
        };
        assert!(a.sees_contractor("c1"));
        assert!(!a.sees_contractor("c2"));
        assert_eq!(a.contractor_scope(), Some("c1"));
    }

    #[test]
    fn operator_sees_every_contractor() {
        let a = Actor::Operator {
            user_id: "u0".into(),
        };
        assert!(a.sees_contractor("c1") && a.sees_contractor("c2"));
        assert_eq!(a.contractor_scope(), None);
    }
}
