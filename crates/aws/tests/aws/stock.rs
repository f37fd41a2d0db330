//! The stock master on DynamoDB (moto): the same contract as the SQLite store
//! (`ichigen_testkit::stock`), each in its own account.

use ichigen_testkit::stock as contract;

use crate::common::Moto;

#[tokio::test]
async fn staff_counts_are_kept_with_who_and_why() {
    contract::staff_counts_are_kept_with_who_and_why(&Moto::new().await.store().await).await;
}

#[tokio::test]
async fn an_order_moves_stock_once_through_reserve_ship_and_cancel() {
    contract::an_order_moves_stock_once_through_reserve_ship_and_cancel(&Moto::new().await.store().await).await;
}

#[tokio::test]
async fn an_order_first_known_shipped_moves_nothing() {
    contract::an_order_first_known_shipped_moves_nothing(&Moto::new().await.store().await).await;
}

#[tokio::test]
async fn concurrent_applies_move_once() {
    contract::concurrent_applies_move_once(&Moto::new().await.store().await).await;
}

#[tokio::test]
async fn orders_draw_from_their_items_allotment() {
    contract::orders_draw_from_their_items_allotment(&Moto::new().await.store().await).await;
}

#[tokio::test]
async fn push_records_are_kept_per_pair_by_revision() {
    contract::push_records_are_kept_per_pair_by_revision(&Moto::new().await.store().await).await;
}
