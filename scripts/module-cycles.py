#!/usr/bin/env python3
"""Loops in the `use crate::`/`super::` graph of a crate's modules (default trainer/src): prints each
strongly connected set of modules and the edges inside it, then loops between top-level modules.
Usage: python3 scripts/module-cycles.py [SRC_DIR]"""
import os,re,sys,itertools
root=sys.argv[1] if len(sys.argv)>1 else 'trainer/src'
mods={}
for d,_,fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'): continue
        p=os.path.join(d,f); rel=os.path.relpath(p,root)[:-3]
        parts=rel.split('/')
        if parts[-1] in('mod','lib','main'): parts=parts[:-1]
        name='::'.join(parts) or 'crate'
        src=open(p).read()
        src=src.split('#[cfg(test)]')[0]
        deps=set()
        for m in re.finditer(r'\b(crate|super)((?:::\w+)+)',src):
            kind,path=m.group(1),m.group(2).split('::')[1:]
            if kind=='crate': base=[]
            else:
                base=parts[:-1] if parts[-1:]!=[] else []
                # file module: super = parent
                if os.path.basename(p)=='mod.rs': base=parts[:-1]
                else: base=parts[:-1]
            full=base+path
            # truncate to a known module
            for k in range(len(full),0,-1):
                cand='::'.join(full[:k])
                if cand in mods or os.path.exists(os.path.join(root,*full[:k])+'.rs') or os.path.exists(os.path.join(root,*full[:k],'mod.rs')):
                    if cand!=name: deps.add(cand)
                    break
        mods[name]=deps
# cycles between modules, ignoring parent/child relations
def anc(a,b): return b.startswith(a+'::') or a.startswith(b+'::')
edges={a:{b for b in ds if not anc(a,b)} for a,ds in mods.items()}
# collapse to top-level-of-each for cycles: use Tarjan on full graph
idx={};low={};st=[];on=set();out=[];i=[0]
def sc(v):
    idx[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
    for w in edges.get(v,()):
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        c=[]
        while True:
            w=st.pop();on.discard(w);c.append(w)
            if w==v:break
        if len(c)>1: out.append(c)
sys.setrecursionlimit(10000)
for v in list(edges):
    if v not in idx: sc(v)
for c in out:
    print('cycle:',' '.join(sorted(c)))
    for a in c:
        for b in edges[a]:
            if b in c: print('   ',a,'->',b)
print(len(out),'cycles')
# top-level folders
top={}
for a,ds in edges.items():
    ta=a.split('::')[0]
    for b in ds:
        tb=b.split('::')[0]
        if ta!=tb: top.setdefault(ta,set()).add((tb,a,b))
for ta in top:
    for tb,a,b in top[ta]:
        for tc,c,d in top.get(tb,()):
            if tc==ta: print('top-level loop:',a,'->',b,'and',c,'->',d)
