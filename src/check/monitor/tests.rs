//! Leader analysis on literal mode series, and the poller with a scripted probe.

use super::*;
use crate::record::ServerMode::{self, *};

fn s(at_us: u64, server: u32, mode: ServerMode, epoch: u64) -> ModeSample {
    let zxid = if mode.is_serving() { Some(epoch << 32 | 5) } else { None };
    ModeSample { at_us, server, mode, zxid }
}

/// Three servers, one tick every 100 µs, each row the modes of zk1..zk3.
fn series(rows: &[[(ServerMode, u64); 3]]) -> Vec<ModeSample> {
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (j, (m, e)) in row.iter().enumerate() {
            out.push(s(i as u64 * 100, j as u32 + 1, *m, *e));
        }
    }
    out
}

#[test]
fn steady_single_leader_passes() {
    let r = analyze_modes(&series(&[[(Leader, 1), (Follower, 1), (Follower, 1)]; 5]));
    assert_eq!(r.verdict, Verdict::Pass);
    assert_eq!((r.leader_changes, r.elections), (0, 0));
    assert_eq!(r.leaders_seen, vec![1]);
    assert!(r.headline().starts_with("never more than one leader"));
}

#[test]
fn overlap_at_one_sample_is_flagged() {
    let r = analyze_modes(&series(&[
        [(Leader, 1), (Follower, 1), (Follower, 1)],
        [(Leader, 1), (Leader, 2), (Follower, 2)],
        [(NotServing, 0), (Leader, 2), (Follower, 2)],
    ]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 100, to_us: 200, servers: vec![1, 2] }]);
    assert_eq!(r.leader_changes, 1);
    assert_eq!(r.elections, 1);
    assert!(r.headline().contains("TWO LEADERS in 1 intervals"), "{}", r.headline());
}

#[test]
fn mode_holds_until_next_sample_of_that_server() {
    // zk1's last word is "leader" at 0; zk2 becomes leader at 50: overlap from 50 until zk1's
    // next sample at 120.
    let v =
        vec![s(0, 1, Leader, 1), s(0, 2, Follower, 1), s(50, 2, Leader, 2), s(120, 1, Down, 0), s(150, 2, Leader, 2)];
    let r = analyze_modes(&v);
    assert_eq!(r.two_leader_intervals, vec![Interval { from_us: 50, to_us: 120, servers: vec![1, 2] }]);
}

#[test]
fn standalone_with_leader_is_flagged() {
    let r = analyze_modes(&series(&[
        [(Standalone, 0), (Down, 0), (Down, 0)],
        [(Standalone, 0), (Leader, 1), (Follower, 1)],
        [(Down, 0), (Leader, 1), (Follower, 1)],
        [(Follower, 1), (Leader, 1), (Follower, 1)],
    ]));
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(r.two_leader_intervals.is_empty());
    assert_eq!(r.standalone_with_leader_intervals, vec![Interval { from_us: 100, to_us: 200, servers: vec![2, 1] }]);
    assert_eq!(r.standalones_seen, vec![1]);
    assert_eq!(r.leader_changes, 1, "standalone 1 -> leader 2");
    assert_eq!(r.elections, 1, "epoch 1 is new (no leader at the first sample)");
}

#[test]
fn down_servers_and_leader_changes_counted() {
    let r = analyze_modes(&series(&[
        [(Leader, 1), (Follower, 1), (Follower, 1)],
        [(Down, 0), (NotServing, 0), (NotServing, 0)],
        [(Down, 0), (Leader, 2), (Follower, 2)],
        [(Follower, 2), (Leader, 2), (Follower, 2)],
        [(Follower, 2), (Down, 0), (NotServing, 0)],
        [(Follower, 3), (Down, 0), (Leader, 3)],
        [(Leader, 4), (Follower, 4), (Follower, 4)],
    ]));
    assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
    assert_eq!(r.leader_changes, 3);
    assert_eq!(r.elections, 3);
    assert_eq!(r.leaders_seen, vec![1, 2, 3]);
}

#[test]
fn no_samples_is_unknown() {
    let r = analyze_modes(&[]);
    assert_eq!(r.verdict, Verdict::Unknown);
}

#[test]
fn csv_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("monitor.csv");
    let v = vec![s(0, 1, Leader, 1), s(0, 2, Down, 0), s(7, 3, NotServing, 0)];
    write_monitor_csv(&p, &v).unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.starts_with("at_us,server,mode,zxid\n0,1,leader,4294967301\n0,2,down,\n"), "{text}");
    assert_eq!(read_monitor_csv(&p).unwrap(), v);
}

#[tokio::test]
async fn poller_samples_joiners_and_marks_removed_down() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("monitor.csv");
    let a: SocketAddr = "127.0.0.1:1001".parse().unwrap();
    let b: SocketAddr = "127.0.0.1:1002".parse().unwrap();
    // zk1 leads; zk2 answers follower; any other address times out.
    let probe: Probe = Arc::new(move |addr, timeout| {
        Box::pin(async move {
            match addr.port() {
                1001 => Ok((Leader, Some(1 << 32))),
                1002 => Ok((Follower, Some(1 << 32))),
                _ => {
                    tokio::time::sleep(timeout * 10).await;
                    Err("silent".to_string())
                }
            }
        })
    });
    let (tx, rx) = watch::channel(vec![(1, a)]);
    let cancel = CancellationToken::new();
    let h = spawn_monitor_with(
        probe,
        rx,
        Duration::from_millis(20),
        Duration::from_millis(10),
        Epoch::now(),
        p.clone(),
        cancel.clone(),
    );
    tokio::time::sleep(Duration::from_millis(70)).await;
    tx.send_replace(vec![(1, a), (2, b), (3, "127.0.0.1:1003".parse().unwrap())]);
    tokio::time::sleep(Duration::from_millis(100)).await;
    tx.send_replace(vec![(1, a)]);
    tokio::time::sleep(Duration::from_millis(60)).await;
    cancel.cancel();
    let samples = h.await.unwrap();
    assert!(samples.iter().any(|s| s.server == 2 && s.mode == Follower));
    assert!(samples.iter().any(|s| s.server == 3 && s.mode == Down));
    let last2 = samples.iter().rfind(|s| s.server == 2).unwrap();
    assert_eq!(last2.mode, Down, "removed server gets a final Down");
    let on_disk = read_monitor_csv(&p).unwrap();
    assert_eq!(on_disk, samples);
    assert_eq!(analyze_modes(&samples).verdict, Verdict::Pass);
}
