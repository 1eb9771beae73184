//! Every kind through its form and back.

use jiff::civil::date;

use super::*;

/// A form's inputs and their texts.
type Values = Vec<(&'static str, String)>;

/// The form values showing `request`, from the form of its kind.
fn shown(request: &Request) -> Option<HashMap<String, String>> {
    fn values<F: KindForm>(r: &Request) -> Option<Values> {
        F::of(r).map(|f| f.values())
    }
    let all: [fn(&Request) -> Option<Values>; 11] = [
        values::<ApplyContract>,
        values::<ChangeItem>,
        values::<AddOption>,
        values::<ChangeUsageType>,
        values::<ChangeNetworkType>,
        values::<ChangePack>,
        values::<StopOption>,
        values::<StopGroup>,
        values::<NotifySerial>,
        values::<ReportFailure>,
        values::<ReportLoss>,
    ];
    let values = all.iter().find_map(|f| f(request))?;
    Some(values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

fn examples() -> Vec<Request> {
    let group = |id: Option<&str>, gb| {
        Some(GroupRequest {
            group_id: id.map(str::to_owned),
            new_group_pack_gb: gb,
        })
    };
    vec![
        Request::ApplyContract {
            contract_kind: ContractKind::ServiceAdapter,
            item: Some(Item::RemoteAccess),
            device_type: Some(DeviceType::SeilCa10),
            management_id: Some("m1".into()),
            label: Some("大阪支店".into()),
        },
        Request::ApplyContract {
            contract_kind: ContractKind::Management,
            item: None,
            device_type: None,
            management_id: None,
            label: None,
        },
        Request::ChangeItem {
            contract_id: "c1".into(),
            item: Item::PppoeTermination,
        },
        Request::AddOption {
            contract_id: "c1".into(),
            option_kind: OptionKind::MobileAccess,
            install_address: Some("東京都千代田区".into()),
            usage_type: Some(MobileUsageType::ALL[0]),
            network_type: Some(NetworkType::FixedIp),
            group: group(None, Some(10)),
        },
        Request::AddOption {
            contract_id: "c1".into(),
            option_kind: OptionKind::ALL[0],
            install_address: None,
            usage_type: None,
            network_type: None,
            group: None,
        },
        Request::ChangeUsageType {
            option_id: "o1".into(),
            usage_type: MobileUsageType::ALL[MobileUsageType::ALL.len() - 1],
            group: group(Some("g1"), None),
        },
        Request::ChangeNetworkType {
            option_id: "o1".into(),
            network_type: NetworkType::DynamicIp,
        },
        Request::ChangePack {
            group_id: "g1".into(),
            pack_gb: 30,
        },
        Request::StopOption {
            option_id: "o1".into(),
            requested_on: Some(date(2027, 1, 31)),
        },
        Request::StopGroup {
            group_id: "g1".into(),
            requested_on: None,
        },
        Request::NotifySerial {
            contract_id: "c1".into(),
            serial: "X4-0001".into(),
        },
        Request::ReportFailure {
            contract_id: "c1".into(),
            description: Some("電源が入らない".into()),
        },
        Request::ReportLoss {
            contract_id: "c1".into(),
        },
    ]
}

/// Request → the values its form shows → the request the posted form reads: the same,
/// for every kind the generic form makes.
#[test]
fn every_kind_round_trips_through_its_form() {
    let examples = examples();
    for kind in kinds() {
        assert!(
            examples.iter().any(|r| r.kind() == kind),
            "no example of {kind}"
        );
    }
    for request in examples {
        let kind = request.kind();
        let form = shown(&request).unwrap_or_else(|| panic!("no form shows {kind}"));
        let specs = specs(kind).unwrap();
        let mut names: Vec<&str> = form.keys().map(String::as_str).collect();
        let mut declared: Vec<&str> = specs.iter().map(|s| s.name).collect();
        names.sort_unstable();
        declared.sort_unstable();
        assert_eq!(
            names, declared,
            "{kind}: the inputs shown are the declared ones"
        );
        for lang in [Lang::Ja, Lang::En] {
            let read = read(kind, &Posted { lang, form: &form })
                .unwrap_or_else(|_| panic!("{kind} does not read back"));
            assert_eq!(read, request);
        }
    }
}

#[test]
fn a_required_input_left_empty_is_named() {
    let form = HashMap::from([("contract_id".to_owned(), "  ".to_owned())]);
    let shown = read(
        "report_loss",
        &Posted {
            lang: Lang::En,
            form: &form,
        },
    )
    .unwrap_err();
    assert_eq!(
        shown.field("contract_id"),
        Some(crate::web::i18n::EN.op_required)
    );
}
