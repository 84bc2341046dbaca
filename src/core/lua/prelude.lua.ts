// The Lua side of the sandbox, run once per engine before any user code. It captures
// what it needs from the full libraries, builds the safe environment and the string
// metatable, then removes everything else from the state.

export const PRELUDE = String.raw`
local sethook, getupvalue, setupvalue, error, type, pairs, next, select, tostring, setmetatable, getmetatable, rawget, rawset, load, pcall, collectgarbage =
  debug.sethook, debug.getupvalue, debug.setupvalue, error, type, pairs, next, select, tostring, setmetatable, getmetatable, rawget, rawset, load, pcall, collectgarbage
-- os.clock is wall time in seconds here (WebAssembly's clock is performance.now), and a
-- call costs a tenth of a call into a JavaScript function.
local clock, gccount = os.clock, collectgarbage
-- budget: steps of 1,000 instructions left; big_kb: above this much memory the state
-- holds large values, and one instruction (a comparison of two long strings, a
-- concatenation) can be milliseconds of work: then the hook runs every instruction.
local budget, deadline, big_kb, fine = 0, 0, 0, false

local function hook()
  if fine then budget = budget - 0.001 else budget = budget - 1 end
  if budget < 0 then error("instruction budget exceeded", 0) end
  if clock() > deadline then error("time budget exceeded", 0) end
  local big = gccount("count") > big_kb
  if big ~= fine then
    fine = big
    sethook(hook, "", big and 1 or 1000)
  end
end

local function frozen(t, what)
  return setmetatable({}, {
    __index = t,
    __newindex = function() error(what .. " is read-only", 2) end,
    __metatable = false,
  })
end

-- A read-only view of an input table, nested tables included.
local function readonly(t)
  local proxy = {}
  return setmetatable(proxy, {
    __index = function(_, k)
      local v = t[k]
      if type(v) == "table" then return readonly(v) end
      return v
    end,
    __newindex = function() error("inputs are read-only", 2) end,
    __len = function() return #t end,
    __pairs = function()
      return function(_, k)
        local nk, nv = next(t, k)
        if type(nv) == "table" then nv = readonly(nv) end
        return nk, nv
      end, proxy, nil
    end,
    __metatable = false,
  })
end

-- C functions that work through a whole string or list in one instruction are charged
-- for that work: a byte or element they produce (or shift, or sort) counts as one
-- instruction, so no loop of them outruns the budget between two hook calls.
local function charge(n)
  budget = budget - n / 1000
  if budget < 0 then error("instruction budget exceeded", 0) end
end
local function charge_results(...)
  charge(select("#", ...))
  return ...
end
local function per_byte(f)
  return function(...)
    local r = f(...)
    if type(r) == "string" then charge(#r) end
    return r
  end
end
local function per_result(f)
  return function(...) return charge_results(f(...)) end
end
local function per_input(f)
  return function(s, ...)
    if type(s) == "string" then charge(#s) end
    return f(s, ...)
  end
end

local s = string
local safe_string = frozen({
  byte = per_result(s.byte), char = per_byte(s.char), format = per_byte(s.format), len = s.len,
  lower = per_byte(s.lower), upper = per_byte(s.upper),
  -- rep is charged before it runs: one call can fill the memory cap a byte at a time.
  rep = function(str, n, sep)
    if type(n) == "number" and n > 0 then
      charge(n * (#tostring(str) + (sep ~= nil and #tostring(sep) or 0)))
    end
    return s.rep(str, n, sep)
  end,
  reverse = per_byte(s.reverse),
  sub = per_byte(s.sub),
}, "string")
-- Method calls ("x"):upper() go through the string metatable: point it at the safe table.
local string_mt = debug.getmetatable("")
string_mt.__index = safe_string
string_mt.__metatable = false

local t, m, u = table, math, utf8
local safe = {
  ipairs = ipairs, pairs = pairs, next = next, select = select, type = type, tostring = tostring,
  tonumber = per_input(tonumber), error = error, assert = assert,
  string = safe_string,
  table = frozen({
    concat = per_byte(t.concat),
    insert = function(list, ...)
      if select("#", ...) >= 2 then charge(#list) end
      return t.insert(list, ...)
    end,
    remove = function(list, ...)
      if select("#", ...) >= 1 then charge(#list) end
      return t.remove(list, ...)
    end,
    sort = function(list, cmp)
      local n = #list
      if n > 1 then charge(n * (m.log(n, 2) + 1)) end
      return t.sort(list, cmp)
    end,
    unpack = per_result(t.unpack),
  }, "table"),
  math = frozen({ abs = m.abs, ceil = m.ceil, floor = m.floor, max = m.max, min = m.min, huge = m.huge, pi = m.pi,
    maxinteger = m.maxinteger, mininteger = m.mininteger, tointeger = m.tointeger, type = m.type, fmod = m.fmod,
    sqrt = m.sqrt }, "math"),
  utf8 = frozen({ char = per_byte(u.char), charpattern = u.charpattern, codepoint = per_result(u.codepoint), len = per_input(u.len), offset = per_input(u.offset),
    codes = u.codes }, "utf8"),
}

local facts, now_ms, clock_declared = {}, 0, false
safe.policy = frozen({
  emit = function(name, value)
    if type(name) ~= "string" then error("policy.emit: the fact name must be a string", 2) end
    facts[name] = value
  end,
  now = function()
    if not clock_declared then error("policy.now: declare 'now' in the document's reads", 2) end
    return now_ms
  end,
}, "policy")

-- A script's environment: a fresh table per load and per call, so nothing a call does
-- (globals, the tables they hold, upvalues of the script's functions) outlives it. Globals
-- may be defined while the chunk's top level runs, then are read-only.
local loading = false
local env_mt = {
  __index = safe,
  __newindex = function(tbl, k, v)
    if not loading then error("globals are read-only after the script is loaded", 2) end
    rawset(tbl, k, v)
  end,
  __metatable = false,
}

-- Loaded chunks: the compiled main function of each; every run gets a new _ENV.
local chunks = {}

local function arm(limit, ms, watch_kb)
  budget, deadline, big_kb = limit, clock() + ms / 1000, watch_kb
  fine = gccount("count") > big_kb
  sethook(hook, "", fine and 1 or 1000)
end

-- Run a chunk's top level in a fresh environment; returns that environment and the
-- chunk's first result.
local function run_top(f)
  local env = setmetatable({}, env_mt)
  setupvalue(f, 1, env)
  loading = true
  local res = f()
  loading = false
  return env, res
end

-- Load a chunk: text only (no binary chunks). Its top level runs once here, under the
-- call budgets (the caller caps memory), so errors show when the script is written. A
-- syntax error is returned; an error while running is raised to the caller's protected
-- call (which also clears the hook, so no hook can fire outside protection).
function __load(id, source, name, limit, ms, watch_kb)
  loading = false
  local f, err = load(source, "=" .. name, "t", {})
  if not f then return err end
  if getupvalue(f, 1) ~= "_ENV" then return "unexpected chunk shape" end
  arm(limit, ms, watch_kb)
  run_top(f)
  sethook()
  chunks[id] = f
  return nil
end

-- Call a loaded chunk: run its top level afresh, then its returned function (entry "")
-- or the global it defined (entry "can_execute"), all under one budget.
function __call(id, entry, subject, resource, context, ns, limit, ms, watch_kb, now, declared_now)
  loading = false
  local f = chunks[id]
  if f == nil then error("no such chunk", 0) end
  facts, now_ms, clock_declared = {}, now, declared_now
  arm(limit, ms, watch_kb)
  local env, res = run_top(f)
  if entry ~= "" then res = rawget(env, entry) end
  if type(res) ~= "function" then error("the script defines no function " .. (entry ~= "" and entry or "to call"), 0) end
  res = res(readonly(subject), readonly(resource), readonly(context), readonly(ns))
  sethook()
  return { result = res, facts = facts }
end

-- Free what a run left behind (called when a state grew, and after loading).
function __collect()
  collectgarbage("collect")
end

-- Nothing else survives: the user's code sees only the safe environment. (Through _G:
-- the locals above shadow these names in this chunk.)
local G = _G
for _, k in ipairs({ "debug", "load", "loadstring", "dofile", "loadfile", "require", "collectgarbage", "print",
  "rawset", "rawget", "rawequal", "rawlen", "setmetatable", "getmetatable", "pcall", "xpcall", "coroutine", "os",
  "io", "package", "string", "table", "math", "utf8", "warn", "_G" }) do
  G[k] = nil
end
`;
