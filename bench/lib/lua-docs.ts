// The Lua documents and the input bench/lua.ts and bench/lua-ab.ts evaluate: a rule with
// a Lua chunk, a script document with the usual top level (helper functions and a lookup
// table), the same with declared reads, and the same decision as one CEL condition.

export const LUA_CHUNK = `key: global-lua
rules:
  - subjects: ["*"]
    lua: |
      for _, r in ipairs(subject.roles) do if r == "admin" then return true end end
      for _, r in ipairs(subject.roles) do if r == "guest" then return false end end
      for _, r in ipairs(subject.roles) do
        if r == "editor" then return resource.attributes.content_length < 1024 and context.hour >= 9 and context.hour < 17 end
      end
      return false
    grant: ["document:delete"]
`;

export const LUA_SCRIPT = `key: global-script
kind: lua
reads: [subject, resource, context]
script: |
  local editors = { editor = true, writer = true }
  local function has_role(subject, wanted)
    for _, r in ipairs(subject.roles) do if wanted[r] then return true end end
    return false
  end
  local function working_hours(context) return context.hour >= 9 and context.hour < 17 end
  function can_execute(subject, resource, context)
    if has_role(subject, { admin = true }) then return { grant = { "document:delete" } } end
    if has_role(subject, editors) and resource.attributes.content_length < 1024 and working_hours(context) then
      return { grant = { "document:delete" } }
    end
    return false
  end
`;

export const LUA_DECLARED = `key: global-declared
kind: lua
reads: [subject.roles, resource.attributes.content_length, context.hour]
script: |
  function can_execute(subject, resource, context)
    for _, r in ipairs(subject.roles) do
      if r == "editor" and resource.attributes.content_length < 1024 and context.hour >= 9 and context.hour < 17 then return { grant = { "document:delete" } } end
    end
    return false
  end
`;

export const CEL_SAME = `key: global-cel
rules:
  - subjects: ["*"]
    when: '"admin" in subject.roles || (!("guest" in subject.roles) && "editor" in subject.roles && resource.attributes.content_length < 1024 && context.hour >= 9 && context.hour < 17)'
    grant: ["document:delete"]
`;

/** every document grants document:delete on this input */
export const LUA_INPUT = {
  subject: { id: 'user:alice', roles: ['editor'], groups: [], attributes: { dept: 'ops', level: 3 } },
  resource: { type: 'document', id: 'd1', attributes: { content_length: 512, owner: 'bob' } },
  context: { hour: 10, ip: '10.0.0.1' },
  namespaces: ['global'],
};
