use super::*;

fn keys() -> Arc<[MetricKey]> {
    vec![MetricKey::new("gnorm"), MetricKey::new("loss")].into()
}

#[test]
fn records_keep_columns_with_gaps() {
    let mut r = Records::new(keys());
    let mut a = Record::new(Some(10), 1.5);
    a.values[1] = Some(3.0);
    r.push(a);
    r.push(Record::new(None, f64::NAN));
    assert_eq!(r.len(), 2);
    assert_eq!(r.column_of(Role::Loss), Some(1));
    assert_eq!(r.column(1).collect::<Vec<_>>(), [Some(3.0), None]);
    assert_eq!(r.get(0), Some(a));
    assert!(r
        .get(1)
        .is_some_and(|x| x.value().is_nan() && x.step.is_none()));
    r.set_last(1, 2.0);
    assert_eq!(r.value(1, 1), Some(2.0));
    assert_eq!(r.get(2), None);
}

#[test]
fn frames_are_kept_only_from_the_first_record_that_has_one() {
    let mut r = Records::new(keys());
    r.push(Record::new(Some(1), 1.0));
    assert!(r.frames().is_empty(), "no frame: nothing stored");
    let mut framed = Record::new(Some(2), 2.0);
    framed.frame = Some(7);
    r.push(framed);
    r.push(Record::new(Some(3), 3.0));
    assert_eq!(r.frames(), &[None, Some(7), None]);
    assert_eq!(r.get(1).map(|x| x.frame), Some(Some(7)));
    assert_eq!(r.get(0).map(|x| x.frame), Some(None));
    // Appended either way round, and the same as pushed one by one.
    let mut a = Records::new(keys());
    a.push(Record::new(Some(0), 0.0));
    a.extend(r.clone());
    assert_eq!(a.frames(), &[None, None, Some(7), None]);
    let mut b = r.clone();
    let mut plain = Records::new(keys());
    plain.push(Record::new(Some(4), 4.0));
    b.extend(plain);
    assert_eq!(b.frames(), &[None, Some(7), None, None]);
    for built in [a, b] {
        let mut one_by_one = Records::new(keys());
        for x in built.iter() {
            one_by_one.push(x);
        }
        assert_eq!(one_by_one, built);
    }
}

#[test]
fn extend_appends_in_order_and_adopts_columns() {
    let mut a = Batch::default();
    let mut b = Batch::with_columns(keys());
    b.steps.push(Record::new(Some(1), 1.0));
    b.skipped = 2;
    a.extend(b.clone());
    b.steps.push(Record::new(Some(2), 2.0));
    a.extend(b);
    let steps: Vec<_> = a.steps.iter().map(|r| r.step).collect();
    assert_eq!(steps, [Some(1), Some(1), Some(2)]);
    assert_eq!(a.skipped, 4);
    assert_eq!(a.steps.keys().len(), 2);
}
