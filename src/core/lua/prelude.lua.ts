// The Lua side of the sandbox, run once per engine before any user code. It captures
// what it needs from the full libraries, builds the safe environment and the string
// metatable, then removes everything else from the state.

export const PRELUDE = String.raw`
local sethook, error, type, pairs, next, select, tostring, setmetatable, getmetatable, rawget, rawset, load, pcall =
  debug.sethook, error, type, pairs, next, select, tostring, setmetatable, getmetatable, rawget, rawset, load, pcall
local clock = __clock
local budget, deadline = 0, 0

-- Every 1,000 instructions; the clock (a call into JavaScript) every 16,000.
local function hook()
  budget = budget - 1
  if budget < 0 then error("instruction budget exceeded", 0) end
  if budget % 16 == 0 and clock() > deadline then error("time budget exceeded", 0) end
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

local s = string
local safe_string = frozen({
  byte = s.byte, char = s.char, format = s.format, len = s.len, lower = s.lower, upper = s.upper,
  rep = s.rep, reverse = s.reverse, sub = s.sub,
}, "string")
-- Method calls ("x"):upper() go through the string metatable: point it at the safe table.
local string_mt = debug.getmetatable("")
string_mt.__index = safe_string
string_mt.__metatable = false

local t, m, u = table, math, utf8
local safe = {
  ipairs = ipairs, pairs = pairs, next = next, select = select, type = type, tostring = tostring,
  tonumber = tonumber, error = error, assert = assert,
  string = safe_string,
  table = frozen({ concat = t.concat, insert = t.insert, remove = t.remove, sort = t.sort, unpack = t.unpack }, "table"),
  math = frozen({ abs = m.abs, ceil = m.ceil, floor = m.floor, max = m.max, min = m.min, huge = m.huge, pi = m.pi,
    maxinteger = m.maxinteger, mininteger = m.mininteger, tointeger = m.tointeger, type = m.type, fmod = m.fmod,
    sqrt = m.sqrt }, "math"),
  utf8 = frozen({ char = u.char, charpattern = u.charpattern, codepoint = u.codepoint, len = u.len, offset = u.offset,
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

-- The user's environment: globals it defines during load, then read-only.
local env = setmetatable({}, { __index = safe })
local loading = true
getmetatable(env).__newindex = function(tbl, k, v)
  if not loading then error("globals are read-only after the script is loaded", 2) end
  rawset(tbl, k, v)
end

local chunks = {}

-- Load a chunk: text only (no binary chunks), in the safe environment.
function __load(id, source, name)
  loading = true
  local f, err = load(source, "=" .. name, "t", env)
  if not f then loading = false; return err end
  budget, deadline = 1000, clock() + 1000
  sethook(hook, "", 1000)
  local ok, res = pcall(f)
  sethook()
  loading = false
  if not ok then return tostring(res) end
  chunks[id] = res
  return nil
end

-- Call a loaded chunk's result (a function) or a global the script defined.
function __call(id, entry, subject, resource, context, ns, limit, ms, now, declared_now)
  local f = chunks[id]
  if entry ~= "" then f = rawget(env, entry) end
  if type(f) ~= "function" then error("the script defines no function " .. tostring(entry ~= "" and entry or id), 0) end
  facts, now_ms, clock_declared = {}, now, declared_now
  budget, deadline = limit, clock() + ms
  sethook(hook, "", 1000)
  local ok, res = pcall(f, readonly(subject), readonly(resource), readonly(context), readonly(ns))
  sethook()
  if not ok then error(res, 0) end
  return { result = res, facts = facts }
end

-- Nothing else survives: the user's code sees only the safe environment. (Through _G:
-- the locals above shadow these names in this chunk.)
local G = _G
for _, k in ipairs({ "debug", "load", "loadstring", "dofile", "loadfile", "require", "collectgarbage", "print",
  "rawset", "rawget", "rawequal", "rawlen", "setmetatable", "getmetatable", "pcall", "xpcall", "coroutine", "os",
  "io", "package", "string", "table", "math", "utf8", "warn", "_G", "__clock" }) do
  G[k] = nil
end
`;
