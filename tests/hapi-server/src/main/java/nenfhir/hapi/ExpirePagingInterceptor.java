package nenfhir.hapi;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Test hook (property nenfhir.expire-page-at=N, N > 0): the Nth request
 * for a page of a stored search (GET {base}?_getpages=UUID...) first deletes
 * that search from HAPI's database, as HAPI's stale-search job does once a
 * search has expired; HAPI itself then answers the request (410 Gone,
 * HAPI-0417). Without it a search lives an hour, longer than any test.
 */
@Interceptor
public class ExpirePagingInterceptor {
    private static final Logger LOG = LoggerFactory.getLogger(ExpirePagingInterceptor.class);
    private final JdbcTemplate jdbc;
    private final long at;
    private final AtomicLong pages = new AtomicLong();

    public ExpirePagingInterceptor(DataSource dataSource, long at) {
        this.jdbc = new JdbcTemplate(dataSource);
        this.at = at;
    }

    @Hook(Pointcut.SERVER_INCOMING_REQUEST_POST_PROCESSED)
    public boolean beforeHandling(RequestDetails request) {
        String[] ids = request.getParameters().get("_getpages");
        if (ids == null || ids.length == 0) return true;
        if (pages.incrementAndGet() != at) return true;
        String uuid = ids[0];
        String pid = "(SELECT PID FROM HFJ_SEARCH WHERE SEARCH_UUID = ?)";
        jdbc.update("DELETE FROM HFJ_SEARCH_RESULT WHERE SEARCH_PID IN " + pid, uuid);
        jdbc.update("DELETE FROM HFJ_SEARCH_INCLUDE WHERE SEARCH_PID IN " + pid, uuid);
        int n = jdbc.update("DELETE FROM HFJ_SEARCH WHERE SEARCH_UUID = ?", uuid);
        LOG.info("test hook: search {} expired before its page request ({} row)", uuid, n);
        return true;
    }
}
