//! `/api/v1`: JSON resources. Every route needs a bearer token.

pub(crate) mod billing;
mod contractors;
mod contracts;
mod devices;
mod journal;
mod mobile;
mod mobile_line;
mod monitoring;
mod parties;
mod presets;
mod requests;
mod search;
mod users;

pub(crate) use crate::app::support::{self, PageParams, instant, limit};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(contractors::list, contractors::create))
        .routes(routes!(contractors::get, contractors::update))
        .routes(routes!(
            users::list_of_contractor,
            users::create_for_contractor
        ))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get))
        .routes(routes!(users::me))
        .routes(routes!(users::list_tokens, users::create_token))
        .routes(routes!(users::revoke_token))
        .routes(routes!(users::disable))
        .routes(routes!(users::enable))
        .routes(routes!(users::unlock))
        .routes(routes!(users::reset_password))
        .routes(routes!(journal::list))
        .routes(routes!(search::find))
        .routes(routes!(requests::submit, requests::list_of_contractor))
        .routes(routes!(requests::list))
        .routes(routes!(requests::get))
        .routes(routes!(requests::accept))
        .routes(routes!(requests::preview))
        .routes(routes!(requests::reject))
        .routes(routes!(requests::withdraw))
        .routes(routes!(contracts::list))
        .routes(routes!(contracts::offered))
        .routes(routes!(contracts::get, contracts::set_label))
        .routes(routes!(contracts::quote))
        .routes(routes!(contracts::billing_start))
        .routes(routes!(contracts::charges))
        .routes(routes!(devices::awaiting_return))
        .routes(routes!(presets::get, presets::put))
        .routes(routes!(presets::list))
        .routes(routes!(presets::get_revision))
        .routes(routes!(presets::diff_revisions))
        .routes(routes!(presets::rollback))
        .routes(routes!(mobile_line::get, mobile_line::put))
        .routes(routes!(monitoring::import))
        .routes(routes!(monitoring::list))
        .routes(routes!(monitoring::history))
        .routes(routes!(monitoring::add_smfv2))
        .routes(routes!(monitoring::reveal_smfv2))
        .routes(routes!(monitoring::webhooks, monitoring::add_webhook))
        .routes(routes!(monitoring::webhook, monitoring::remove_webhook))
        .routes(routes!(devices::get))
        .routes(routes!(devices::list_of_contractor))
        .routes(routes!(devices::returned))
        .routes(routes!(devices::found))
        .routes(routes!(devices::sweep))
        .routes(routes!(devices::groups))
        .routes(routes!(devices::group))
        .routes(routes!(parties::eligibility))
        .routes(routes!(
            parties::designated_services,
            parties::add_designated_service
        ))
        .routes(routes!(parties::designations, parties::designate))
        .routes(routes!(parties::consent_designation))
        .routes(routes!(parties::redirects, parties::request_redirect))
        .routes(routes!(parties::consent_redirect))
        .routes(routes!(parties::approve_redirect))
        .routes(routes!(
            billing::prices::prices,
            billing::prices::set_prices
        ))
        .routes(routes!(billing::prices::prices_csv))
        .routes(routes!(billing::prices::remove_agreement))
        .routes(routes!(billing::prices::import_prices))
        .routes(routes!(
            billing::runs::get_issuer,
            billing::runs::set_issuer
        ))
        .routes(routes!(billing::runs::run))
        .routes(routes!(billing::runs::finalize))
        .routes(routes!(billing::runs::lines_csv))
        .routes(routes!(billing::invoices::invoices))
        .routes(routes!(billing::invoices::invoice))
        .routes(routes!(billing::invoices::print))
        .routes(routes!(billing::invoices::pdf))
        .routes(routes!(billing::invoices::pay))
        .routes(routes!(billing::invoices::default))
        .routes(routes!(billing::sla::record_outage, billing::sla::outages))
        .routes(routes!(billing::sla::outage))
        .routes(routes!(billing::sla::claim))
        .routes(routes!(billing::sla::claims))
        .routes(routes!(billing::sla::approve))
        .routes(routes!(billing::sla::refuse))
        .routes(routes!(mobile::ingest))
        .routes(routes!(mobile::rejections))
        .routes(routes!(mobile::bind_sim))
        .routes(routes!(mobile::contract_usage))
        .routes(routes!(mobile::group_usage))
        .routes(routes!(mobile::throttles))
        .routes(routes!(mobile::events))
        .routes(routes!(mobile::throttle))
        .routes(routes!(mobile::release))
}
