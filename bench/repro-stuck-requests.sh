#!/bin/bash
# Reproduces a known defect (see the notes): on Postgres, after 3 s of load with 32 connections,
# ~20–30 requests stay "in flight" forever (no database activity, low CPU; new requests are
# served). Usage: bench/repro-stuck-requests.sh GET|POST (needs the built server and Postgres).
M=$1
HERE="$(cd "$(dirname "$0")" && pwd)"
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS acct_stuck WITH (FORCE)" -qc "CREATE DATABASE acct_stuck" 2>/dev/null
mkdir -p /tmp/hb && cd /tmp/hb && (PORT=18931 ACCT_DATABASE=postgres://postgres@127.0.0.1:5432/acct_stuck ACCT_BOOTSTRAP_KEY=acct_bench_key_0123456789abcdefghijklmnop ACCT_RATE_LIMIT=1000000000 node "$HERE/../apps/server/dist/server.mjs" > st.log 2>&1 & echo $! > st.pid); sleep 3
K=acct_bench_key_0123456789abcdefghijklmnop
J=$(curl -s "localhost:18931/api/v1/accounts?filter%5Breference-id%5D=abc-123" -H "Authorization: Bearer $K" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data[0].id))')
A=$(curl -s localhost:18931/api/v1/account-actions -H "Authorization: Bearer $K" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data.find(a=>a.attributes.name==="Set status").id))')
cd "$HERE" && node -e "
const a=require('autocannon'); const post='$M'==='POST';
a({url:'http://127.0.0.1:18931/api/v1/accounts/$J'+(post?'/run-action':''),method:'$M',connections:32,duration:3,headers:{authorization:'Bearer $K','content-type':'application/json'},body:post?JSON.stringify({data:{'account-action-id':'$A',parameters:{status:'activated'}}}):undefined},(e,r)=>console.log('$M rps',Math.round(r.requests.average)))"
sleep 1; kill -TERM $(cat /tmp/hb/st.pid); sleep 1; grep -o '"draining in-flight requests".*inFlight":[0-9]*' /tmp/hb/st.log | grep -o 'inFlight":[0-9]*' || echo "inFlight: 0 (no drain needed)"
sleep 11; kill -9 $(cat /tmp/hb/st.pid) 2>/dev/null; true
